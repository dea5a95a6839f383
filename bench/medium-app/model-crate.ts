import type { Domain } from './domains.js';
import { GENERATED } from './record-modules.js';

/** The fixed files of inventory-model, keyed by path inside the crate. */
export function modelCrate(domains: readonly Domain[]): Record<string, string> {
  return {
    'Cargo.toml': `[package]
name = "inventory-model"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
serde = { workspace = true }

[dev-dependencies]
serde_json = { workspace = true }
`,
    'src/lib.rs': `${GENERATED}
//! The records of the inventory service and the types they share.
pub mod line_item;
pub mod money;
pub mod record;
pub mod region;

${domains.map((domain) => `pub mod ${domain.module};`).join('\n')}

pub use line_item::LineItem;
pub use money::Money;
pub use record::{Record, ValidationError};
pub use region::Region;
`,
    'src/money.rs': `${GENERATED}
//! Money in whole cents, so sums are exact.
use serde::{Deserialize, Serialize};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Mul, Neg, Sub};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money {
    cents: i64,
}

impl Money {
    pub const ZERO: Money = Money { cents: 0 };

    pub const fn from_cents(cents: i64) -> Self {
        Money { cents }
    }

    pub const fn cents(self) -> i64 {
        self.cents
    }

    pub fn is_negative(self) -> bool {
        self.cents < 0
    }

    pub fn as_f64(self) -> f64 {
        self.cents as f64 / 100.0
    }

    /// \`pct\` percent of the amount, rounded toward zero.
    pub fn percent(self, pct: i64) -> Money {
        Money { cents: self.cents * pct / 100 }
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, other: Money) -> Money {
        Money { cents: self.cents + other.cents }
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, other: Money) {
        self.cents += other.cents;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, other: Money) -> Money {
        Money { cents: self.cents - other.cents }
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money { cents: -self.cents }
    }
}

impl Mul<i64> for Money {
    type Output = Money;
    fn mul(self, factor: i64) -> Money {
        Money { cents: self.cents * factor }
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.cents < 0 { "-" } else { "" };
        write!(f, "{sign}{}.{:02}", self.cents.abs() / 100, self.cents.abs() % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_with_two_decimals_and_a_sign() {
        assert_eq!(Money::from_cents(1205).to_string(), "12.05");
        assert_eq!(Money::from_cents(-7).to_string(), "-0.07");
        assert_eq!([Money::from_cents(1), Money::from_cents(2)].into_iter().sum::<Money>(), Money::from_cents(3));
    }
}
`,
    'src/region.rs': `${GENERATED}
//! Sales regions; each scales a record's weight a little.
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Region {
    North,
    South,
    East,
    West,
    Central,
}

impl Region {
    pub const ALL: [Region; 5] = [Region::North, Region::South, Region::East, Region::West, Region::Central];

    pub fn from_index(index: u64) -> Region {
        Region::ALL[(index % Region::ALL.len() as u64) as usize]
    }

    pub fn code(self) -> &'static str {
        match self {
            Region::North => "N",
            Region::South => "S",
            Region::East => "E",
            Region::West => "W",
            Region::Central => "C",
        }
    }

    pub fn factor(self) -> f64 {
        match self {
            Region::North => 1.1,
            Region::South => 0.9,
            Region::East | Region::West => 1.0,
            Region::Central => 1.25,
        }
    }
}
`,
    'src/line_item.rs': `${GENERATED}
//! One line of an order-like record.
use crate::money::Money;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LineItem {
    pub sku: String,
    pub quantity: u32,
    pub unit_price: Money,
}

impl LineItem {
    pub fn new(sku: impl Into<String>, quantity: u32, unit_price: Money) -> Self {
        LineItem { sku: sku.into(), quantity, unit_price }
    }

    pub fn total(&self) -> Money {
        self.unit_price * i64::from(self.quantity)
    }
}
`,
    'src/record.rs': `${GENERATED}
//! What every record offers the engine, whatever its fields.
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;
use std::hash::Hash;

pub trait Record: Serialize + DeserializeOwned + Clone + fmt::Debug + fmt::Display + Send + Sync + 'static {
    /// The record's name on the wire and in reports.
    const KIND: &'static str;
    type Status: Copy + Ord + Hash + fmt::Debug + Send + Sync + 'static;

    fn id(&self) -> u64;
    fn created_at(&self) -> u64;
    fn status(&self) -> Self::Status;
    /// A record's cost to handle, in arbitrary units; rules cap it.
    fn weight(&self) -> f64;
    fn validate(&self) -> Result<(), ValidationError>;
    fn is_terminal(&self) -> bool;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError {
    pub kind: &'static str,
    pub field: &'static str,
    pub problem: String,
}

impl ValidationError {
    pub fn new(kind: &'static str, field: &'static str, problem: impl Into<String>) -> Self {
        ValidationError { kind, field, problem: problem.into() }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{} {}", self.kind, self.field, self.problem)
    }
}

impl std::error::Error for ValidationError {}
`,
  };
}
