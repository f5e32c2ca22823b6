//! Typed keys: the stable, human-readable names that catalog data uses to point at each other
//! (`department = "city-police"`), and typed UUID ids for rows that have no public code.
//!
//! A key is lowercase ASCII letters, digits, `-` and `_`, 1 to 64 characters, so that it is safe in
//! URLs, file names and SQL without quoting. Each kind of key is its own type so that a department
//! key can never be passed where a hall key is expected.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} key {value:?}: {reason}")]
pub struct KeyError {
    pub kind: &'static str,
    pub value: String,
    pub reason: &'static str,
}

impl KeyError {
    /// Stable error code for the API error table.
    pub fn code(&self) -> &'static str {
        "invalid_key"
    }
}

fn check_key(kind: &'static str, value: &str) -> Result<(), KeyError> {
    let fail = |reason| {
        Err(KeyError {
            kind,
            value: value.to_owned(),
            reason,
        })
    };
    if value.is_empty() {
        return fail("it is empty");
    }
    if value.len() > 64 {
        return fail("it is longer than 64 characters");
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
    if !value.chars().all(allowed) {
        return fail("only lowercase ASCII letters, digits, '-' and '_' are allowed");
    }
    Ok(())
}

macro_rules! key_type {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses a key, refusing anything outside `[a-z0-9_-]{1,64}`.
            pub fn parse(value: &str) -> Result<Self, KeyError> {
                check_key($kind, value)?;
                Ok(Self(value.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = KeyError;
            fn try_from(value: String) -> Result<Self, KeyError> {
                check_key($kind, &value)?;
                Ok(Self(value))
            }
        }

        impl From<$name> for String {
            fn from(key: $name) -> String {
                key.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = KeyError;
            fn from_str(value: &str) -> Result<Self, KeyError> {
                Self::parse(value)
            }
        }
    };
}

key_type!(
    /// A department (部门), e.g. `city-police`.
    DepartmentKey,
    "department"
);
key_type!(
    /// A service hall (政务服务中心/便民服务中心/便民服务站), e.g. `city-centre`.
    HallKey,
    "hall"
);
key_type!(
    /// A window in a hall, unique within the whole organisation, e.g. `city-centre-a01`.
    WindowKey,
    "window"
);
key_type!(
    /// A window skill group (综合窗口分组), e.g. `personal`.
    SkillGroupKey,
    "skill group"
);
key_type!(
    /// A theme (主题), a life event of a person or an enterprise, e.g. `birth`.
    ThemeKey,
    "theme"
);
key_type!(
    /// A material kind; the same code in two items means the same document (一套材料).
    MaterialCode,
    "material"
);
key_type!(
    /// A data element (数据元) of the shared dictionary, e.g. `applicant_name`.
    DataElementCode,
    "data element"
);
key_type!(
    /// A licence type (电子证照类型) as the catalog names it, e.g. `business_licence`.
    LicenceTypeKey,
    "licence type"
);
key_type!(
    /// A "one thing" bundle (一件事), e.g. `newborn`.
    BundleCode,
    "bundle"
);
key_type!(
    /// A situational question (情形引导) or one of its options, e.g. `entrusted`.
    QuestionCode,
    "question"
);
key_type!(
    /// A sign-in account name, e.g. `clerk`.
    AccountName,
    "account"
);

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(uuid::Uuid);

        impl $name {
            pub fn from_uuid(id: uuid::Uuid) -> Self {
                Self(id)
            }

            pub fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id!(
    /// The stable identity of an item across all its versions.
    ItemId
);
uuid_id!(
    /// The stable identity of a bundle across all its versions.
    BundleId
);
uuid_id!(
    /// A mandate (委托) given to an agent.
    MandateId
);
uuid_id!(
    /// A home-visit request (上门服务).
    HomeVisitId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_accepts_lowercase_digits_and_dashes() {
        assert_eq!(
            DepartmentKey::parse("city-police_2").map(|k| k.to_string()),
            Ok("city-police_2".to_owned())
        );
    }

    #[test]
    fn a_key_refuses_upper_case_spaces_and_emptiness() {
        for bad in ["City", "a b", "", "公安"] {
            assert!(HallKey::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(ThemeKey::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn a_key_deserialises_only_when_valid() {
        let good: Result<BundleCode, _> = serde_json::from_str("\"newborn\"");
        assert!(good.is_ok());
        let bad: Result<BundleCode, _> = serde_json::from_str("\"New Born\"");
        assert!(bad.is_err());
    }
}
