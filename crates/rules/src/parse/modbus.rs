//! `modbus:` clauses: function (number or category), unit, access to a table, address.

use super::values::{int_cmp, uint};
use crate::ast::{ModbusCategory, ModbusTable, ModbusTest};

/// `modbus:` clauses; `None` when one custos does not evaluate (`value`).
pub(super) fn modbus(v: &str) -> Result<Option<ModbusTest>, String> {
    let mut t = ModbusTest::default();
    let none = |_: &str| None;
    for clause in v.split(',').map(str::trim) {
        let (k, rest) = clause
            .split_once(char::is_whitespace)
            .unwrap_or((clause, ""));
        let rest = rest.trim();
        match k {
            "function" => {
                let (neg, r) = match rest.strip_prefix('!') {
                    Some(r) => (true, r.trim()),
                    None => (false, rest),
                };
                t.category = match r {
                    "assigned" => Some(ModbusCategory::Assigned),
                    "unassigned" => Some(ModbusCategory::Unassigned),
                    "public" => Some(ModbusCategory::Public),
                    "user" => Some(ModbusCategory::User),
                    "reserved" => Some(ModbusCategory::Reserved),
                    _ => {
                        let f = u8::try_from(uint(r)?).map_err(|e| e.to_string())?;
                        t.function = Some((f, neg));
                        None
                    }
                };
                if neg && t.category.is_some() {
                    return Ok(None);
                }
            }
            "subfunction" | "value" => return Ok(None),
            "access" => {
                let mut words = rest.split_whitespace();
                let write = match words.next() {
                    Some("read") => false,
                    Some("write") => true,
                    other => return Err(format!("bad access `{}`", other.unwrap_or(""))),
                };
                let table = match words.next() {
                    None => None,
                    Some("discretes") => Some(ModbusTable::DiscreteInputs),
                    Some("coils") => Some(ModbusTable::Coils),
                    Some("input") => Some(ModbusTable::InputRegisters),
                    Some("holding") => Some(ModbusTable::HoldingRegisters),
                    Some(other) => return Err(format!("unknown table `{other}`")),
                };
                t.access = Some((write, table));
            }
            "address" => t.address = Some(int_cmp(rest, &none)?),
            "unit" => t.unit = Some(int_cmp(rest, &none)?),
            other => return Err(format!("unknown modbus clause `{other}`")),
        }
    }
    if t.address.is_some() && t.access.is_none() {
        return Err("address needs access".into());
    }
    Ok(Some(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::IntCmp;

    #[test]
    fn modbus_clauses_parse() {
        let t = modbus("unit >9, access read coils, address 0<>2")
            .unwrap()
            .unwrap();
        assert_eq!(t.unit, Some(IntCmp::Gt(9)));
        assert_eq!(t.access, Some((false, Some(ModbusTable::Coils))));
        assert_eq!(t.address, Some(IntCmp::Between(0, 2)));
        assert_eq!(
            modbus("function assigned").unwrap().unwrap().category,
            Some(ModbusCategory::Assigned)
        );
        assert!(modbus("access write coils, value 3").unwrap().is_none());
    }
}
