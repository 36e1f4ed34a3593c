//! `modbus:` against the Modbus message of a transaction: function and its category,
//! unit, access to a table and the registers it touches, as Suricata compares them.

use super::app::ModbusInfo;
use crate::ast::{IntCmp, ModbusCategory, ModbusTable, ModbusTest};

/// `modbus:` against a Modbus message.
pub(super) fn modbus_matches(t: &ModbusTest, m: &ModbusInfo) -> bool {
    if let Some((f, neg)) = t.function {
        if (m.function == f) == neg {
            return false;
        }
    }
    if let Some(cat) = t.category {
        if category(m.function) != Some(cat)
            && !(cat == ModbusCategory::Public
                && matches!(
                    category(m.function),
                    Some(ModbusCategory::Assigned | ModbusCategory::Unassigned)
                ))
        {
            return false;
        }
    }
    if let Some(u) = t.unit {
        if !u.test(u64::from(m.unit)) {
            return false;
        }
    }
    if let Some((write, table)) = t.access {
        let tables: &[(u8, bool, ModbusTable)] = &[
            (1, false, ModbusTable::Coils),
            (2, false, ModbusTable::DiscreteInputs),
            (3, false, ModbusTable::HoldingRegisters),
            (4, false, ModbusTable::InputRegisters),
            (5, true, ModbusTable::Coils),
            (6, true, ModbusTable::HoldingRegisters),
            (15, true, ModbusTable::Coils),
            (16, true, ModbusTable::HoldingRegisters),
            (22, true, ModbusTable::HoldingRegisters),
            (23, false, ModbusTable::HoldingRegisters),
            (23, true, ModbusTable::HoldingRegisters),
        ];
        let ok = tables
            .iter()
            .any(|(f, w, tb)| *f == m.function && *w == write && table.is_none_or(|t| t == *tb));
        if !ok {
            return false;
        }
        if let Some(a) = t.address {
            let Some(first) = m.address else {
                return false;
            };
            if !address_matches(a, first, m.quantity.unwrap_or(1)) {
                return false;
            }
        }
    }
    true
}

/// `address` against the registers a request touches, `first` to `first + quantity - 1`,
/// as Suricata compares them: a value must fall inside; a range must overlap.
fn address_matches(cmp: IntCmp, first: u16, quantity: u16) -> bool {
    use IntCmp;
    let (start, end) = (
        u64::from(first),
        u64::from(first) + u64::from(quantity.max(1)) - 1,
    );
    match cmp {
        IntCmp::Eq(n) => (start..=end).contains(&n),
        IntCmp::Ne(n) => !(start == n && end == n),
        IntCmp::Lt(n) => start < n,
        IntCmp::Le(n) => start <= n,
        IntCmp::Gt(n) => end > n,
        IntCmp::Ge(n) => end >= n,
        IntCmp::Between(0, hi) => hi > start,
        IntCmp::Between(lo, hi) => lo < end && start < hi,
    }
}

/// Suricata's Modbus function categories.
fn category(f: u8) -> Option<ModbusCategory> {
    Some(match f {
        1..=8 | 11 | 12 | 15..=17 | 20..=24 | 43 => ModbusCategory::Assigned,
        65..=72 | 100..=110 => ModbusCategory::User,
        9 | 10 | 13 | 14 | 41 | 42 | 90 | 91 | 125..=127 => ModbusCategory::Reserved,
        1..=127 => ModbusCategory::Unassigned,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modbus_categories_and_access() {
        let read_coils = ModbusInfo {
            function: 1,
            unit: 10,
            address: Some(0),
            quantity: Some(1),
        };
        let from_two = ModbusInfo {
            address: Some(2),
            quantity: Some(2),
            ..read_coils
        };
        let t = ModbusTest {
            access: Some((false, Some(ModbusTable::Coils))),
            address: Some(IntCmp::Between(0, 2)),
            unit: Some(IntCmp::Gt(9)),
            ..ModbusTest::default()
        };
        assert!(modbus_matches(&t, &read_coils));
        // Suricata's overlap rule: 0<>2 does not reach registers 2 and 3.
        assert!(!modbus_matches(&t, &from_two));
        assert!(address_matches(IntCmp::Eq(3), 2, 2));
        assert!(!address_matches(IntCmp::Eq(4), 2, 2));
        let write = ModbusTest {
            access: Some((true, None)),
            ..ModbusTest::default()
        };
        assert!(!modbus_matches(&write, &read_coils));
        assert_eq!(category(8), Some(ModbusCategory::Assigned));
        assert_eq!(category(9), Some(ModbusCategory::Reserved));
        assert_eq!(category(50), Some(ModbusCategory::Unassigned));
    }
}
