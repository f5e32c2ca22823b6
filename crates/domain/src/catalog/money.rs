//! Amounts of money in yuan, kept as whole fen (分) so that no amount is ever rounded.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount in fen; written in data as a decimal string of yuan, e.g. `"10.00"` or `"5"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Money {
    fen: i64,
}

impl Money {
    pub fn from_fen(fen: i64) -> Self {
        Self { fen }
    }

    pub fn fen(&self) -> i64 {
        self.fen
    }

    /// Parses yuan with at most two decimals; no sign, no thousands separators.
    pub fn parse_yuan(text: &str) -> Result<Money, String> {
        let bad = || format!("{text:?} is not an amount in yuan such as \"10.00\"");
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, fraction),
            None => (text, ""),
        };
        if whole.is_empty()
            || fraction.len() > 2
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let fraction_fen: i64 = match fraction.len() {
            0 => 0,
            1 => fraction.parse::<i64>().map_err(|_| bad())? * 10,
            _ => fraction.parse::<i64>().map_err(|_| bad())?,
        };
        whole
            .checked_mul(100)
            .and_then(|fen| fen.checked_add(fraction_fen))
            .map(Money::from_fen)
            .ok_or_else(bad)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.fen / 100, self.fen % 100)
    }
}

impl TryFrom<String> for Money {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Money::parse_yuan(&text)
    }
}

impl From<Money> for String {
    fn from(money: Money) -> String {
        money.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_amounts_keep_every_fen() {
        assert_eq!(Money::parse_yuan("10.05").map(|m| m.fen()), Ok(1005));
        assert_eq!(Money::parse_yuan("7.5").map(|m| m.fen()), Ok(750));
        assert_eq!(
            Money::parse_yuan("80").map(|m| m.to_string()),
            Ok("80.00".into())
        );
    }

    #[test]
    fn malformed_amounts_are_refused() {
        for bad in ["", "-1", "1.234", "1,000", "abc", ".5"] {
            assert!(Money::parse_yuan(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
