//! Identifiers as parse-don't-validate newtypes.
//!
//! Each type here can only be built by parsing, so holding one proves the text is well formed: a resident ID
//! number (居民身份证号码, GB 11643) with a correct check digit and a real birth date, a unified social credit code
//! (统一社会信用代码, GB 32100) with a correct check character, an electronic-licence identifier (电子证照标识,
//! GB/T 36903) with a correct ISO/IEC 7064 MOD 37,36 check character, a region code (行政区划代码, GB/T 2260 and
//! the 12-digit statistical division codes), and the three catalog item codes (基本编码, 实施编码,
//! 业务办理项编码), which are opaque strings checked only for length and, for the implementation code, for the
//! implementing body's credit code at its start.
//!
//! Every type serialises as its string and deserialises through `parse`, so invalid data fails when it is
//! read, not later when it is used. Parsing is strict and does not trim whitespace; the only normalisation is
//! the resident ID number's lower-case `x`, which is upper-cased.
//!
//! ```
//! use tongban_domain::ids::{CreditCode, IdNumber, LicenceId, Sex};
//!
//! let id = IdNumber::parse("11010519491231002x").unwrap();
//! assert_eq!(id.as_str(), "11010519491231002X");
//! assert_eq!(id.sex(), Sex::Female);
//! assert_eq!(id.masked(), "110105********002X");
//!
//! let issuer = CreditCode::parse("11430000006122244L").unwrap();
//! let licence = LicenceId::build("11100000000013338W011", &issuer, "20230000403", 2).unwrap();
//! assert_eq!(
//!     licence.as_str(),
//!     "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S"
//! );
//! ```

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Which kind of identifier an [`IdError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    /// 居民身份证号码.
    IdNumber,
    /// 统一社会信用代码.
    CreditCode,
    /// 电子证照标识.
    LicenceId,
    /// 行政区划代码.
    RegionCode,
    /// 基本编码.
    BasicCode,
    /// 实施编码.
    ImplementationCode,
    /// 业务办理项编码.
    HandlingCode,
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            IdKind::IdNumber => "resident ID number",
            IdKind::CreditCode => "unified social credit code",
            IdKind::LicenceId => "licence identifier",
            IdKind::RegionCode => "region code",
            IdKind::BasicCode => "basic item code",
            IdKind::ImplementationCode => "implementation code",
            IdKind::HandlingCode => "handling item code",
        };
        f.write_str(name)
    }
}

/// Why a string is not a valid identifier. Positions count characters from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The identifier has the wrong number of characters.
    #[error("a {kind} must be {expected} characters long, found {actual}")]
    WrongLength {
        kind: IdKind,
        /// The allowed length, e.g. `18`, `6 or 12`, `1 to 36`.
        expected: &'static str,
        actual: usize,
    },
    /// A character outside the identifier's alphabet.
    #[error(
        "{kind}: character {found:?} at position {position} is not allowed here; expected {allowed}"
    )]
    CharacterNotAllowed {
        kind: IdKind,
        position: usize,
        found: char,
        /// What is allowed at that position, in words.
        allowed: &'static str,
    },
    /// A lower-case letter where only upper case is accepted.
    #[error(
        "{kind}: lower-case letter {found:?} at position {position}; letters must be upper case ({:?})",
        .found.to_ascii_uppercase()
    )]
    LowercaseLetter {
        kind: IdKind,
        position: usize,
        found: char,
    },
    /// The check character does not match the rest of the identifier: usually a typo.
    #[error(
        "{kind}: the check character should be {expected:?} but is {found:?}; the number is probably mistyped"
    )]
    CheckCharacterMismatch {
        kind: IdKind,
        expected: char,
        found: char,
    },
    /// The birth date inside a resident ID number is not a real date.
    #[error("resident ID number: the birth date {digits} does not exist")]
    InvalidBirthDate {
        /// The eight digits YYYYMMDD as found.
        digits: String,
    },
    /// The identifier does not start with its fixed prefix.
    #[error("a {kind} must start with {expected:?}")]
    BadPrefix {
        kind: IdKind,
        expected: &'static str,
    },
    /// The identifier has the wrong number of dot-separated parts.
    #[error("a {kind} must have {expected} dot-separated parts after its prefix, found {actual}")]
    WrongPartCount {
        kind: IdKind,
        expected: usize,
        actual: usize,
    },
    /// One part of a structured identifier is malformed.
    #[error("{kind}: the {part} is invalid: {reason}")]
    InvalidPart {
        kind: IdKind,
        part: &'static str,
        reason: String,
    },
    /// A credit code embedded in another identifier is invalid.
    #[error("{kind}: the {part} is invalid: {cause}")]
    InvalidEmbeddedCode {
        kind: IdKind,
        part: &'static str,
        cause: Box<IdError>,
    },
    /// A licence version outside 000..=999.
    #[error("{kind}: version {version} is out of range; versions run from 000 to 999")]
    VersionOutOfRange { kind: IdKind, version: u32 },
}

impl IdError {
    /// The kind of identifier that failed to parse.
    pub fn kind(&self) -> IdKind {
        match self {
            IdError::WrongLength { kind, .. }
            | IdError::CharacterNotAllowed { kind, .. }
            | IdError::LowercaseLetter { kind, .. }
            | IdError::CheckCharacterMismatch { kind, .. }
            | IdError::BadPrefix { kind, .. }
            | IdError::WrongPartCount { kind, .. }
            | IdError::InvalidPart { kind, .. }
            | IdError::InvalidEmbeddedCode { kind, .. }
            | IdError::VersionOutOfRange { kind, .. } => *kind,
            IdError::InvalidBirthDate { .. } => IdKind::IdNumber,
        }
    }

    /// A stable snake_case code for APIs and logs, one per kind of identifier.
    pub fn code(&self) -> &'static str {
        match self.kind() {
            IdKind::IdNumber => "invalid_id_number",
            IdKind::CreditCode => "invalid_credit_code",
            IdKind::LicenceId => "invalid_licence_id",
            IdKind::RegionCode => "invalid_region_code",
            IdKind::BasicCode | IdKind::ImplementationCode | IdKind::HandlingCode => {
                "invalid_item_code"
            }
        }
    }
}

/// The string plumbing every identifier shares: `as_str`, `Display`, `FromStr`, `AsRef<str>` and the
/// conversions serde uses (`try_from = "String"`, `into = "String"`).
macro_rules! string_identifier {
    ($name:ident) => {
        impl $name {
            /// The identifier as text, in its canonical form.
            pub fn as_str(&self) -> &str {
                &self.text
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.text)
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(text: &str) -> Result<$name, IdError> {
                $name::parse(text)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;

            fn try_from(text: String) -> Result<$name, IdError> {
                $name::parse(&text)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;

            fn try_from(text: &str) -> Result<$name, IdError> {
                $name::parse(text)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.text
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.text
            }
        }
    };
}

/// Checks the length in characters against `min..=max`.
fn check_length(
    kind: IdKind,
    text: &str,
    min: usize,
    max: usize,
    expected: &'static str,
) -> Result<(), IdError> {
    let actual = text.chars().count();
    if actual < min || actual > max {
        return Err(IdError::WrongLength {
            kind,
            expected,
            actual,
        });
    }
    Ok(())
}

/// The value of an ASCII decimal string, or `None` if it is not one.
fn decimal(digits: &str) -> Option<u32> {
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

// ---------------------------------------------------------------------------------------------------------
// Resident ID number
// ---------------------------------------------------------------------------------------------------------

/// ISO 7064 MOD 11-2 weights for the first 17 digits of a resident ID number.
const ID_NUMBER_WEIGHTS: [usize; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// The check character for each remainder of the weighted sum modulo 11.
const ID_NUMBER_CHECK_CHARS: &[u8; 11] = b"10X98765432";

/// The check character (`0`–`9` or `X`) for the first 17 digits of a resident ID number.
pub fn id_number_check_char(first17: &str) -> Result<char, IdError> {
    let kind = IdKind::IdNumber;
    check_length(kind, first17, 17, 17, "17")?;
    let mut sum = 0;
    for ((index, character), weight) in first17.chars().enumerate().zip(ID_NUMBER_WEIGHTS) {
        if !character.is_ascii_digit() {
            return Err(IdError::CharacterNotAllowed {
                kind,
                position: index + 1,
                found: character,
                allowed: "a digit",
            });
        }
        sum += digit_value(character) * weight;
    }
    Ok(char::from(ID_NUMBER_CHECK_CHARS[sum % 11]))
}

/// The value of an ASCII digit; callers check `is_ascii_digit` first.
fn digit_value(character: char) -> usize {
    debug_assert!(character.is_ascii_digit(), "digit_value needs a digit");
    (u32::from(character) - u32::from('0')) as usize
}

/// Sex as encoded in a resident ID number: an odd sequence number is male, an even one female.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sex {
    Male,
    Female,
}

/// A resident ID number (公民身份号码, GB 11643-1999): 6-digit area code, birth date YYYYMMDD, 3-digit
/// sequence number and a MOD 11-2 check character.
///
/// The area code is not checked against a list: numbers keep the area code in force when they were issued,
/// and retired codes stay valid inside them. `Debug` prints the [masked](IdNumber::masked) form so that an ID
/// number that ends up in a log line is not exposed; `Display` and `as_str` give the full number for storage.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdNumber {
    /// 18 ASCII characters, the last one a digit or an upper-case `X`.
    text: String,
    birth_date: Date,
    sex: Sex,
}

impl IdNumber {
    /// Parses an 18-character resident ID number, accepting a lower-case `x` as check character.
    pub fn parse(text: &str) -> Result<IdNumber, IdError> {
        let kind = IdKind::IdNumber;
        check_length(kind, text, 18, 18, "18")?;
        let mut normalised = String::with_capacity(18);
        for (index, character) in text.chars().enumerate() {
            let allowed = if index < 17 {
                character.is_ascii_digit()
            } else {
                character.is_ascii_digit() || character == 'X' || character == 'x'
            };
            if !allowed {
                return Err(IdError::CharacterNotAllowed {
                    kind,
                    position: index + 1,
                    found: character,
                    allowed: if index < 17 {
                        "a digit"
                    } else {
                        "a digit or X"
                    },
                });
            }
            normalised.push(character.to_ascii_uppercase());
        }

        // All 18 characters are ASCII from here on, so byte slicing is character slicing.
        let birth_digits = &normalised[6..14];
        let birth_date =
            birth_date_from_digits(birth_digits).ok_or_else(|| IdError::InvalidBirthDate {
                digits: birth_digits.to_owned(),
            })?;

        let expected = id_number_check_char(&normalised[..17])?;
        let found = char::from(normalised.as_bytes()[17]);
        if expected != found {
            return Err(IdError::CheckCharacterMismatch {
                kind,
                expected,
                found,
            });
        }

        let sequence_last_digit = char::from(normalised.as_bytes()[16]);
        let sex = if digit_value(sequence_last_digit) % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        };
        Ok(IdNumber {
            text: normalised,
            birth_date,
            sex,
        })
    }

    /// The birth date encoded in digits 7–14.
    pub fn birth_date(&self) -> Date {
        self.birth_date
    }

    /// The sex encoded in the parity of the sequence number (digit 17).
    pub fn sex(&self) -> Sex {
        self.sex
    }

    /// The 6-digit area code of the place of registration at issue (digits 1–6).
    pub fn region_prefix(&self) -> &str {
        &self.text[..6]
    }

    /// The number with the birth date hidden, e.g. `110105********002X`, for display and logs.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.text[..6], &self.text[14..])
    }
}

fn birth_date_from_digits(digits: &str) -> Option<Date> {
    let year = i16::try_from(decimal(digits.get(0..4)?)?).ok()?;
    let month = i8::try_from(decimal(digits.get(4..6)?)?).ok()?;
    let day = i8::try_from(decimal(digits.get(6..8)?)?).ok()?;
    Date::new(year, month, day).ok()
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IdNumber").field(&self.masked()).finish()
    }
}

string_identifier!(IdNumber);

// ---------------------------------------------------------------------------------------------------------
// Unified social credit code
// ---------------------------------------------------------------------------------------------------------

/// The 31 characters of GB 32100 (no I, O, S, V, Z); a character's value is its index.
const CREDIT_CODE_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_CODE_ALLOWED: &str = "a digit or one of ABCDEFGHJKLMNPQRTUWXY";
/// Weights 3^i mod 31 for positions 1–17.
const CREDIT_CODE_WEIGHTS: [usize; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// The value of a credit-code character, or the error for the character at `position`.
fn credit_code_value(character: char, position: usize) -> Result<usize, IdError> {
    let kind = IdKind::CreditCode;
    if let Some(value) = CREDIT_CODE_ALPHABET.find(character) {
        return Ok(value);
    }
    if character.is_ascii_lowercase()
        && CREDIT_CODE_ALPHABET.contains(character.to_ascii_uppercase())
    {
        return Err(IdError::LowercaseLetter {
            kind,
            position,
            found: character,
        });
    }
    Err(IdError::CharacterNotAllowed {
        kind,
        position,
        found: character,
        allowed: CREDIT_CODE_ALLOWED,
    })
}

/// The check character for the first 17 characters of a unified social credit code.
///
/// Useful to generate demo data: pick 17 characters, append the check character.
pub fn credit_code_check_char(first17: &str) -> Result<char, IdError> {
    check_length(IdKind::CreditCode, first17, 17, 17, "17")?;
    let mut sum = 0;
    for ((index, character), weight) in first17.chars().enumerate().zip(CREDIT_CODE_WEIGHTS) {
        sum += credit_code_value(character, index + 1)? * weight;
    }
    let check_value = (31 - sum % 31) % 31;
    Ok(char::from(CREDIT_CODE_ALPHABET.as_bytes()[check_value]))
}

/// A unified social credit code (统一社会信用代码, GB 32100-2015): registration authority (1), organisation
/// category (1), region (6), organisation code (9) and check character (1).
///
/// Parsing is strict: lower-case letters are rejected with a message asking for upper case, because the code
/// is printed in upper case on every licence and a lower-case one points at a transcription problem.
/// Authority, category and region are not checked against lists.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode {
    /// 18 characters of the GB 32100 alphabet.
    text: String,
}

impl CreditCode {
    /// Parses an 18-character credit code and verifies its check character.
    pub fn parse(text: &str) -> Result<CreditCode, IdError> {
        let kind = IdKind::CreditCode;
        check_length(kind, text, 18, 18, "18")?;
        for (index, character) in text.chars().enumerate() {
            credit_code_value(character, index + 1)?;
        }
        // All characters are ASCII now.
        let expected = credit_code_check_char(&text[..17])?;
        let found = char::from(text.as_bytes()[17]);
        if expected != found {
            return Err(IdError::CheckCharacterMismatch {
                kind,
                expected,
                found,
            });
        }
        Ok(CreditCode {
            text: text.to_owned(),
        })
    }

    /// The registration authority code (登记管理部门码), the first character: `9` for market regulation,
    /// `1` for establishment administration, `5` for civil affairs, and so on.
    pub fn registration_authority(&self) -> char {
        char::from(self.text.as_bytes()[0])
    }

    /// The region code of the registering authority, characters 3–8.
    pub fn region(&self) -> &str {
        &self.text[2..8]
    }
}

string_identifier!(CreditCode);

// ---------------------------------------------------------------------------------------------------------
// Electronic-licence identifier
// ---------------------------------------------------------------------------------------------------------

/// The national platform's OID prefix for licence identifiers.
const LICENCE_PREFIX: &str = "1.2.156.3005.2.";

/// ISO/IEC 7064 MOD 37,36 over digits and upper-case letters (values 0..=35); `None` for any other character.
fn mod_37_36_check_char(body: &str) -> Option<char> {
    const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut product: u32 = 36;
    for byte in body.bytes() {
        let value = match byte {
            b'0'..=b'9' => u32::from(byte - b'0'),
            b'A'..=b'Z' => u32::from(byte - b'A') + 10,
            _ => return None,
        };
        let mut sum = (product + value) % 36;
        if sum == 0 {
            sum = 36;
        }
        product = (sum * 2) % 37;
    }
    let index = usize::try_from((37 - product) % 36).ok()?;
    ALPHABET.get(index).map(|byte| char::from(*byte))
}

/// The validated parts of a licence identifier, before the check character.
struct LicenceParts {
    type_code: String,
    issuer: CreditCode,
    serial: String,
    version: u16,
}

impl LicenceParts {
    fn parse(
        type_code: &str,
        issuer: &str,
        serial: &str,
        version: &str,
    ) -> Result<LicenceParts, IdError> {
        let kind = IdKind::LicenceId;
        if type_code.len() != 21 || !type_code.is_ascii() {
            return Err(IdError::InvalidPart {
                kind,
                part: "licence type code",
                reason: format!(
                    "it must be the defining body's 18-character credit code followed by 3 digits, found {} characters",
                    type_code.chars().count()
                ),
            });
        }
        CreditCode::parse(&type_code[..18]).map_err(|cause| IdError::InvalidEmbeddedCode {
            kind,
            part: "defining body's credit code in the licence type code",
            cause: Box::new(cause),
        })?;
        if decimal(&type_code[18..]).is_none() {
            return Err(IdError::InvalidPart {
                kind,
                part: "licence type code",
                reason: "its last 3 characters must be digits".to_owned(),
            });
        }
        let issuer = CreditCode::parse(issuer).map_err(|cause| IdError::InvalidEmbeddedCode {
            kind,
            part: "issuer's credit code",
            cause: Box::new(cause),
        })?;
        if serial.is_empty()
            || !serial
                .bytes()
                .all(|byte| byte.is_ascii_digit() || byte.is_ascii_uppercase())
        {
            return Err(IdError::InvalidPart {
                kind,
                part: "serial number",
                reason: "it must be one or more digits or upper-case letters".to_owned(),
            });
        }
        let version_number = match decimal(version) {
            Some(number) if version.len() == 3 => u16::try_from(number).ok(),
            _ => None,
        };
        let Some(version_number) = version_number else {
            return Err(IdError::InvalidPart {
                kind,
                part: "version",
                reason: format!("it must be 3 digits, found {version:?}"),
            });
        };
        Ok(LicenceParts {
            type_code: type_code.to_owned(),
            issuer,
            serial: serial.to_owned(),
            version: version_number,
        })
    }

    /// The check character over the parts with prefix and dots removed.
    fn check_char(&self) -> Result<char, IdError> {
        let body = format!(
            "{}{}{}{:03}",
            self.type_code, self.issuer, self.serial, self.version
        );
        // Every part has been validated to use only 0-9A-Z, so this error is unreachable in practice.
        mod_37_36_check_char(&body).ok_or_else(|| IdError::InvalidPart {
            kind: IdKind::LicenceId,
            part: "body",
            reason: "it contains a character outside 0-9A-Z".to_owned(),
        })
    }

    fn into_licence_id(self, check: char) -> LicenceId {
        let text = format!(
            "{LICENCE_PREFIX}{}.{}.{}.{:03}.{check}",
            self.type_code, self.issuer, self.serial, self.version
        );
        LicenceId {
            text,
            type_code: self.type_code,
            issuer: self.issuer,
            serial: self.serial,
            version: self.version,
            check,
        }
    }
}

/// An electronic-licence identifier (电子证照标识) on the national platform:
/// `1.2.156.3005.2.<type code>.<issuer USCC>.<serial>.<version>.<check>`.
///
/// The type code is the defining body's credit code plus 3 digits; the version has 3 digits and grows on
/// every change or renewal; the check character is ISO/IEC 7064 MOD 37,36 over everything after the prefix
/// with the dots removed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LicenceId {
    text: String,
    type_code: String,
    issuer: CreditCode,
    serial: String,
    version: u16,
    check: char,
}

impl LicenceId {
    /// Parses a full licence identifier, including the `1.2.156.3005.2.` prefix.
    pub fn parse(text: &str) -> Result<LicenceId, IdError> {
        let kind = IdKind::LicenceId;
        let Some(rest) = text.strip_prefix(LICENCE_PREFIX) else {
            return Err(IdError::BadPrefix {
                kind,
                expected: LICENCE_PREFIX,
            });
        };
        let parts: Vec<&str> = rest.split('.').collect();
        let [type_code, issuer, serial, version, check] = parts.as_slice() else {
            return Err(IdError::WrongPartCount {
                kind,
                expected: 5,
                actual: parts.len(),
            });
        };
        let licence_parts = LicenceParts::parse(type_code, issuer, serial, version)?;
        let mut check_characters = check.chars();
        let (Some(found), None) = (check_characters.next(), check_characters.next()) else {
            return Err(IdError::InvalidPart {
                kind,
                part: "check character",
                reason: format!("it must be a single character, found {check:?}"),
            });
        };
        if !(found.is_ascii_digit() || found.is_ascii_uppercase()) {
            return Err(IdError::CharacterNotAllowed {
                kind,
                position: text.chars().count(),
                found,
                allowed: "a digit or an upper-case letter",
            });
        }
        let expected = licence_parts.check_char()?;
        if expected != found {
            return Err(IdError::CheckCharacterMismatch {
                kind,
                expected,
                found,
            });
        }
        Ok(licence_parts.into_licence_id(found))
    }

    /// Builds an identifier from its parts, computing the check character.
    pub fn build(
        type_code: &str,
        issuer: &CreditCode,
        serial: &str,
        version: u16,
    ) -> Result<LicenceId, IdError> {
        let kind = IdKind::LicenceId;
        if version > 999 {
            return Err(IdError::VersionOutOfRange {
                kind,
                version: u32::from(version),
            });
        }
        let version_text = format!("{version:03}");
        let parts = LicenceParts::parse(type_code, issuer.as_str(), serial, &version_text)?;
        let check = parts.check_char()?;
        Ok(parts.into_licence_id(check))
    }

    /// The identifier of the next version of the same licence (version + 1, new check character).
    pub fn next_version(&self) -> Result<LicenceId, IdError> {
        let next = u32::from(self.version) + 1;
        let Ok(next_version) = u16::try_from(next) else {
            return Err(IdError::VersionOutOfRange {
                kind: IdKind::LicenceId,
                version: next,
            });
        };
        LicenceId::build(&self.type_code, &self.issuer, &self.serial, next_version)
    }

    /// The licence type code: the defining body's credit code followed by 3 digits.
    pub fn type_code(&self) -> &str {
        &self.type_code
    }

    /// The issuing body's credit code.
    pub fn issuer(&self) -> &CreditCode {
        &self.issuer
    }

    /// The issuer's serial number for the licence.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// The version, 0 to 999.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// The check character, the last character of the identifier.
    pub fn check_char(&self) -> char {
        self.check
    }
}

string_identifier!(LicenceId);

// ---------------------------------------------------------------------------------------------------------
// Region code
// ---------------------------------------------------------------------------------------------------------

/// The level of a region, coarse to fine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RegionLevel {
    /// 省级: digits 3–6 (and 7–12) are zero, e.g. `110000`.
    Province,
    /// 地级: digits 5–6 (and 7–12) are zero, e.g. `110100`.
    Prefecture,
    /// 县级: digits 7–12 are zero or absent, e.g. `110108`, `110108000000`.
    County,
    /// 乡级 (township, town, street): digits 10–12 are zero, e.g. `653126100000`.
    Township,
    /// 村级 (village, community): a 12-digit code with non-zero last 3 digits, e.g. `653126100039`.
    Village,
}

impl RegionLevel {
    /// How many leading digits identify a region at this level.
    fn significant_digits(self) -> usize {
        match self {
            RegionLevel::Province => 2,
            RegionLevel::Prefecture => 4,
            RegionLevel::County => 6,
            RegionLevel::Township => 9,
            RegionLevel::Village => 12,
        }
    }
}

/// A region code: GB/T 2260 (6 digits: province, prefecture, county) or a statistical division code (12
/// digits: those 6, township 3, village 3).
///
/// The level is the deepest non-zero group of digits. Groups may be skipped: prefecture-level cities without
/// counties number their towns directly, e.g. `441900003000` is a township whose parent is `441900000000`.
/// Codes are not checked against a list: they change yearly and are kept as dated data elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode {
    /// 6 or 12 ASCII digits, the first two not both zero.
    text: String,
}

impl RegionCode {
    /// Parses a 6- or 12-digit region code.
    pub fn parse(text: &str) -> Result<RegionCode, IdError> {
        let kind = IdKind::RegionCode;
        let length = text.chars().count();
        if length != 6 && length != 12 {
            return Err(IdError::WrongLength {
                kind,
                expected: "6 or 12",
                actual: length,
            });
        }
        for (index, character) in text.chars().enumerate() {
            if !character.is_ascii_digit() {
                return Err(IdError::CharacterNotAllowed {
                    kind,
                    position: index + 1,
                    found: character,
                    allowed: "a digit",
                });
            }
        }
        if text.starts_with("00") {
            return Err(IdError::InvalidPart {
                kind,
                part: "province",
                reason: "the first two digits cannot be 00".to_owned(),
            });
        }
        Ok(RegionCode {
            text: text.to_owned(),
        })
    }

    fn group_is_zero(&self, start: usize, end: usize) -> bool {
        self.text
            .get(start..end)
            .is_none_or(|group| group.bytes().all(|byte| byte == b'0'))
    }

    /// The level, from the deepest non-zero group of digits.
    pub fn level(&self) -> RegionLevel {
        if !self.group_is_zero(9, 12) {
            RegionLevel::Village
        } else if !self.group_is_zero(6, 9) {
            RegionLevel::Township
        } else if !self.group_is_zero(4, 6) {
            RegionLevel::County
        } else if !self.group_is_zero(2, 4) {
            RegionLevel::Prefecture
        } else {
            RegionLevel::Province
        }
    }

    /// The enclosing region: the same code with its deepest non-zero group set to zero, in the same width
    /// (6 or 12 digits). A province has no parent.
    pub fn parent(&self) -> Option<RegionCode> {
        let group_start = match self.level() {
            RegionLevel::Province => return None,
            RegionLevel::Prefecture => 2,
            RegionLevel::County => 4,
            RegionLevel::Township => 6,
            RegionLevel::Village => 9,
        };
        let mut text = self.text[..group_start].to_owned();
        text.push_str(&"0".repeat(self.text.len() - group_start));
        Some(RegionCode { text })
    }

    /// Whether `other` lies within this region (or is this region), by its significant leading digits:
    /// `110000` contains `110108` and `110108001000`; `110108` and `110108000000` contain each other.
    pub fn contains(&self, other: &RegionCode) -> bool {
        let significant = &self.text[..self.level().significant_digits()];
        // A code that starts with these digits has a non-zero digit in this region's deepest group (or is
        // below a province), so it can only be this region or one inside it.
        other.text.starts_with(significant)
    }
}

string_identifier!(RegionCode);

// ---------------------------------------------------------------------------------------------------------
// Item codes
// ---------------------------------------------------------------------------------------------------------

fn check_characters(
    kind: IdKind,
    text: &str,
    allowed: fn(char) -> bool,
    description: &'static str,
) -> Result<(), IdError> {
    for (index, character) in text.chars().enumerate() {
        if !allowed(character) {
            return Err(IdError::CharacterNotAllowed {
                kind,
                position: index + 1,
                found: character,
                allowed: description,
            });
        }
    }
    Ok(())
}

/// A basic item code (基本编码): 1 to 12 ASCII letters or digits, otherwise opaque.
///
/// GB/T 39554.1 allows up to 10 characters and the national platform uses 12, so the bound is 12.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BasicCode {
    text: String,
}

impl BasicCode {
    /// Parses a basic code.
    pub fn parse(text: &str) -> Result<BasicCode, IdError> {
        let kind = IdKind::BasicCode;
        check_length(kind, text, 1, 12, "1 to 12")?;
        check_characters(
            kind,
            text,
            |character| character.is_ascii_alphanumeric(),
            "an ASCII letter or digit",
        )?;
        Ok(BasicCode {
            text: text.to_owned(),
        })
    }
}

string_identifier!(BasicCode);

/// An implementation code (实施编码): 1 to 36 ASCII letters or digits. When it has 18 characters or more, the
/// first 18 must be the implementing body's valid credit code (real codes are that code plus 13 characters).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImplementationCode {
    text: String,
    implementing_body: Option<CreditCode>,
}

impl ImplementationCode {
    /// Parses an implementation code.
    pub fn parse(text: &str) -> Result<ImplementationCode, IdError> {
        let kind = IdKind::ImplementationCode;
        check_length(kind, text, 1, 36, "1 to 36")?;
        check_characters(
            kind,
            text,
            |character| character.is_ascii_alphanumeric(),
            "an ASCII letter or digit",
        )?;
        let implementing_body =
            match text.get(..18) {
                Some(prefix) => Some(CreditCode::parse(prefix).map_err(|cause| {
                    IdError::InvalidEmbeddedCode {
                        kind,
                        part: "implementing body's credit code (the first 18 characters)",
                        cause: Box::new(cause),
                    }
                })?),
                None => None,
            };
        Ok(ImplementationCode {
            text: text.to_owned(),
            implementing_body,
        })
    }

    /// The implementing body's credit code, when the code is long enough to carry one.
    pub fn implementing_body(&self) -> Option<CreditCode> {
        self.implementing_body.clone()
    }
}

string_identifier!(ImplementationCode);

/// A handling item code (业务办理项编码): 1 to 36 visible ASCII characters (no spaces or control characters),
/// otherwise opaque.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HandlingCode {
    text: String,
}

impl HandlingCode {
    /// Parses a handling item code.
    pub fn parse(text: &str) -> Result<HandlingCode, IdError> {
        let kind = IdKind::HandlingCode;
        check_length(kind, text, 1, 36, "1 to 36")?;
        check_characters(
            kind,
            text,
            |character| character.is_ascii_graphic(),
            "a visible ASCII character",
        )?;
        Ok(HandlingCode {
            text: text.to_owned(),
        })
    }
}

string_identifier!(HandlingCode);

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    /// Wraps an identifier so that serde round trips can go through TOML, the format this crate reads.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Wrapped<T> {
        value: T,
    }

    fn toml_round_trip<T>(value: T) -> T
    where
        T: Serialize + for<'de> Deserialize<'de>,
    {
        let text = toml::to_string(&Wrapped { value }).unwrap();
        let wrapped: Wrapped<T> = toml::from_str(&text).unwrap();
        wrapped.value
    }

    // ---- resident ID numbers, REFERENCE §7 ----

    const VALID_ID_NUMBERS: [&str; 6] = [
        "11010519491231002X",
        "360426199101010071",
        "44011320141005001X",
        "110102199101010078",
        "412723199010050012",
        "120110199212010072",
    ];

    #[test]
    fn every_valid_id_number_from_the_reference_parses() {
        for text in VALID_ID_NUMBERS {
            let id = IdNumber::parse(text).unwrap();
            assert_eq!(id.as_str(), text);
            assert_eq!(id.to_string(), text);
            assert_eq!(text.parse::<IdNumber>().unwrap(), id);
        }
    }

    #[test]
    fn an_id_number_exposes_birth_date_sex_and_region() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.birth_date(), date(1949, 12, 31));
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.region_prefix(), "110105");
        let male = IdNumber::parse("360426199101010071").unwrap();
        assert_eq!(male.sex(), Sex::Male);
        assert_eq!(male.birth_date(), date(1991, 1, 1));
    }

    #[test]
    fn a_lower_case_x_is_accepted_and_upper_cased() {
        let id = IdNumber::parse("11010519491231002x").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id, IdNumber::parse("11010519491231002X").unwrap());
    }

    #[test]
    fn a_masked_id_number_hides_the_birth_date() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.masked(), "110105********002X");
    }

    #[test]
    fn debug_output_of_an_id_number_is_masked_so_logs_never_hold_the_full_number() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        let debug = format!("{id:?}");
        assert_eq!(debug, "IdNumber(\"110105********002X\")");
        assert!(!debug.contains("19491231"));
    }

    #[test]
    fn an_id_number_with_a_wrong_check_character_is_rejected() {
        assert_eq!(
            IdNumber::parse("36042619910102009X").unwrap_err(),
            IdError::CheckCharacterMismatch {
                kind: IdKind::IdNumber,
                expected: '3',
                found: 'X',
            }
        );
        let error = IdNumber::parse("360426199101010072").unwrap_err();
        assert_eq!(
            error,
            IdError::CheckCharacterMismatch {
                kind: IdKind::IdNumber,
                expected: '1',
                found: '2',
            }
        );
        assert_eq!(error.code(), "invalid_id_number");
    }

    #[test]
    fn an_id_number_with_month_13_is_rejected_for_its_birth_date() {
        let error = IdNumber::parse("360426199113010079").unwrap_err();
        assert_eq!(
            error,
            IdError::InvalidBirthDate {
                digits: "19911301".to_owned()
            }
        );
        assert_eq!(error.code(), "invalid_id_number");
        assert_eq!(
            error.to_string(),
            "resident ID number: the birth date 19911301 does not exist"
        );
    }

    #[test]
    fn an_id_number_born_on_29_february_of_a_common_year_is_rejected() {
        assert!(matches!(
            IdNumber::parse("360426199102290071").unwrap_err(),
            IdError::InvalidBirthDate { .. }
        ));
    }

    #[test]
    fn an_id_number_with_a_letter_in_the_digits_is_rejected() {
        let error = IdNumber::parse("T60426199101010078").unwrap_err();
        assert_eq!(
            error,
            IdError::CharacterNotAllowed {
                kind: IdKind::IdNumber,
                position: 1,
                found: 'T',
                allowed: "a digit",
            }
        );
        assert_eq!(error.code(), "invalid_id_number");
    }

    #[test]
    fn an_old_15_digit_id_number_is_rejected_for_its_length() {
        assert_eq!(
            IdNumber::parse("110105491231002").unwrap_err(),
            IdError::WrongLength {
                kind: IdKind::IdNumber,
                expected: "18",
                actual: 15,
            }
        );
    }

    #[test]
    fn an_id_number_with_surrounding_spaces_is_rejected() {
        assert!(IdNumber::parse(" 11010519491231002X").is_err());
        assert!(IdNumber::parse("11010519491231002X ").is_err());
    }

    #[test]
    fn an_id_number_with_non_ascii_digits_is_rejected_without_panicking() {
        let error = IdNumber::parse("１10105194912310020").unwrap_err();
        assert!(matches!(
            error,
            IdError::CharacterNotAllowed { position: 1, .. }
        ));
    }

    #[test]
    fn an_id_number_round_trips_through_serde_and_invalid_ones_fail_to_deserialize() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(toml_round_trip(id.clone()), id);
        let invalid: Result<Wrapped<IdNumber>, _> =
            toml::from_str("value = \"360426199101010072\"");
        let message = invalid.unwrap_err().to_string();
        assert!(message.contains("check character"), "{message}");
        // A lower-case x is normalised on the way in.
        let lower: Wrapped<IdNumber> = toml::from_str("value = \"11010519491231002x\"").unwrap();
        assert_eq!(lower.value.as_str(), "11010519491231002X");
    }

    #[test]
    fn the_id_number_check_character_helper_matches_every_valid_vector() {
        for text in VALID_ID_NUMBERS {
            let expected = text.chars().last().unwrap();
            assert_eq!(
                id_number_check_char(&text[..17]).unwrap(),
                expected,
                "{text}"
            );
        }
        assert!(id_number_check_char("1234").is_err());
        assert!(id_number_check_char("1101051949123100A").is_err());
    }

    // ---- unified social credit codes, REFERENCE §7 ----

    const VALID_CREDIT_CODES: [&str; 8] = [
        "91110000600037341L",
        "121200004013590816",
        "91310115MA1K3BTP2B",
        "91340600MA2PBP2120",
        "92340621MA2UK3PJXE",
        "11100000000013338W",
        "12441500196720244T",
        "9144030071526726XG",
    ];

    #[test]
    fn every_valid_credit_code_from_the_reference_parses() {
        for text in VALID_CREDIT_CODES {
            let code = CreditCode::parse(text).unwrap();
            assert_eq!(code.as_str(), text);
            assert_eq!(code.to_string(), text);
            assert_eq!(text.parse::<CreditCode>().unwrap(), code);
        }
    }

    #[test]
    fn the_credit_code_check_character_helper_matches_every_valid_vector() {
        for text in VALID_CREDIT_CODES {
            let expected = text.chars().last().unwrap();
            assert_eq!(
                credit_code_check_char(&text[..17]).unwrap(),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn a_credit_code_exposes_its_authority_and_region() {
        let code = CreditCode::parse("91310115MA1K3BTP2B").unwrap();
        assert_eq!(code.registration_authority(), '9');
        assert_eq!(code.region(), "310115");
        let institution = CreditCode::parse("11100000000013338W").unwrap();
        assert_eq!(institution.registration_authority(), '1');
        assert_eq!(institution.region(), "100000");
    }

    #[test]
    fn a_credit_code_with_a_wrong_check_character_is_rejected() {
        let error = CreditCode::parse("91110000600037341N").unwrap_err();
        assert_eq!(
            error,
            IdError::CheckCharacterMismatch {
                kind: IdKind::CreditCode,
                expected: 'L',
                found: 'N',
            }
        );
        assert_eq!(error.code(), "invalid_credit_code");
        let changed_digit = CreditCode::parse("91110000600037342L").unwrap_err();
        assert!(matches!(
            changed_digit,
            IdError::CheckCharacterMismatch { found: 'L', .. }
        ));
    }

    #[test]
    fn a_credit_code_with_letters_outside_the_alphabet_is_rejected() {
        let error = CreditCode::parse("9111000060003IOZSV").unwrap_err();
        assert_eq!(
            error,
            IdError::CharacterNotAllowed {
                kind: IdKind::CreditCode,
                position: 14,
                found: 'I',
                allowed: CREDIT_CODE_ALLOWED,
            }
        );
        assert_eq!(error.code(), "invalid_credit_code");
    }

    #[test]
    fn a_five_character_credit_code_is_rejected_for_its_length() {
        let error = CreditCode::parse("12345").unwrap_err();
        assert_eq!(
            error,
            IdError::WrongLength {
                kind: IdKind::CreditCode,
                expected: "18",
                actual: 5,
            }
        );
        assert_eq!(
            error.to_string(),
            "a unified social credit code must be 18 characters long, found 5"
        );
    }

    #[test]
    fn a_lower_case_credit_code_is_rejected_with_a_hint_to_use_upper_case() {
        let error = CreditCode::parse("91310115ma1k3btp2b").unwrap_err();
        assert_eq!(
            error,
            IdError::LowercaseLetter {
                kind: IdKind::CreditCode,
                position: 9,
                found: 'm',
            }
        );
        assert!(error.to_string().contains("upper case ('M')"), "{error}");
    }

    #[test]
    fn a_lower_case_letter_that_is_not_in_the_alphabet_is_reported_as_not_allowed() {
        assert!(matches!(
            CreditCode::parse("9111000060003i341L").unwrap_err(),
            IdError::CharacterNotAllowed {
                position: 14,
                found: 'i',
                ..
            }
        ));
    }

    #[test]
    fn a_credit_code_round_trips_through_serde_and_invalid_ones_fail_to_deserialize() {
        let code = CreditCode::parse("91340600MA2PBP2120").unwrap();
        assert_eq!(toml_round_trip(code.clone()), code);
        let invalid: Result<Wrapped<CreditCode>, _> = toml::from_str("value = \"12345\"");
        assert!(invalid.is_err());
    }

    // ---- licence identifiers, REFERENCE §5 ----

    const LICENCE_VECTORS: [&str; 5] = [
        "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S",
        "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
        "1.2.156.3005.2.11100000000013338W087.11370800MB28559184.37080001202411010001.001.3",
        "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
        "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
    ];

    #[test]
    fn every_licence_identifier_from_the_reference_parses() {
        for text in LICENCE_VECTORS {
            let licence = LicenceId::parse(text).unwrap();
            assert_eq!(licence.as_str(), text);
            assert_eq!(licence.to_string(), text);
            assert_eq!(text.parse::<LicenceId>().unwrap(), licence);
            assert_eq!(Some(licence.check_char()), text.chars().last());
        }
    }

    #[test]
    fn a_licence_identifier_exposes_its_parts() {
        let licence = LicenceId::parse(LICENCE_VECTORS[2]).unwrap();
        assert_eq!(licence.type_code(), "11100000000013338W087");
        assert_eq!(licence.issuer().as_str(), "11370800MB28559184");
        assert_eq!(licence.serial(), "37080001202411010001");
        assert_eq!(licence.version(), 1);
        assert_eq!(licence.check_char(), '3');
    }

    #[test]
    fn building_each_reference_licence_reproduces_its_check_character() {
        for text in LICENCE_VECTORS {
            let parsed = LicenceId::parse(text).unwrap();
            let built = LicenceId::build(
                parsed.type_code(),
                parsed.issuer(),
                parsed.serial(),
                parsed.version(),
            )
            .unwrap();
            assert_eq!(built.as_str(), text);
        }
    }

    #[test]
    fn the_next_version_of_version_001_is_the_reference_version_002() {
        let first = LicenceId::parse(LICENCE_VECTORS[1]).unwrap();
        let second = first.next_version().unwrap();
        assert_eq!(second.as_str(), LICENCE_VECTORS[0]);
        assert_eq!(second.version(), 2);
    }

    #[test]
    fn there_is_no_version_after_999() {
        let issuer = CreditCode::parse("11430000006122244L").unwrap();
        let last = LicenceId::build("11100000000013338W011", &issuer, "1", 999).unwrap();
        assert!(last.as_str().contains(".999."));
        let error = last.next_version().unwrap_err();
        assert_eq!(
            error,
            IdError::VersionOutOfRange {
                kind: IdKind::LicenceId,
                version: 1000,
            }
        );
        assert_eq!(error.code(), "invalid_licence_id");
        assert!(LicenceId::build("11100000000013338W011", &issuer, "1", 1000).is_err());
    }

    #[test]
    fn tampering_with_any_single_character_of_a_reference_licence_is_detected() {
        for text in LICENCE_VECTORS {
            let characters: Vec<char> = text.chars().collect();
            for position in LICENCE_PREFIX.len()..characters.len() {
                let original = characters[position];
                if original == '.' {
                    continue;
                }
                for replacement in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".chars() {
                    if replacement == original {
                        continue;
                    }
                    let mut tampered = characters.clone();
                    tampered[position] = replacement;
                    let tampered: String = tampered.into_iter().collect();
                    assert!(
                        LicenceId::parse(&tampered).is_err(),
                        "{tampered} should be rejected"
                    );
                }
            }
        }
    }

    #[test]
    fn a_licence_identifier_without_the_platform_prefix_is_rejected() {
        let error = LicenceId::parse("11100000000013338W011.11430000006122244L.20230000403.002.S")
            .unwrap_err();
        assert_eq!(
            error,
            IdError::BadPrefix {
                kind: IdKind::LicenceId,
                expected: "1.2.156.3005.2.",
            }
        );
        assert_eq!(error.code(), "invalid_licence_id");
    }

    #[test]
    fn a_licence_identifier_with_a_missing_part_is_rejected() {
        assert_eq!(
            LicenceId::parse("1.2.156.3005.2.11100000000013338W011.11430000006122244L.002.S")
                .unwrap_err(),
            IdError::WrongPartCount {
                kind: IdKind::LicenceId,
                expected: 5,
                actual: 4,
            }
        );
    }

    #[test]
    fn a_licence_identifier_with_an_invalid_issuer_names_the_issuer() {
        let error = LicenceId::parse(
            "1.2.156.3005.2.11100000000013338W011.11430000006122244M.20230000403.002.S",
        )
        .unwrap_err();
        assert!(matches!(
            error,
            IdError::InvalidEmbeddedCode {
                kind: IdKind::LicenceId,
                part: "issuer's credit code",
                ..
            }
        ));
        assert_eq!(error.code(), "invalid_licence_id");
    }

    #[test]
    fn a_licence_type_code_must_be_a_credit_code_and_three_digits() {
        let issuer = CreditCode::parse("11430000006122244L").unwrap();
        assert!(matches!(
            LicenceId::build("11100000000013338W01", &issuer, "1", 1).unwrap_err(),
            IdError::InvalidPart {
                part: "licence type code",
                ..
            }
        ));
        assert!(matches!(
            LicenceId::build("11100000000013338W01A", &issuer, "1", 1).unwrap_err(),
            IdError::InvalidPart {
                part: "licence type code",
                ..
            }
        ));
        assert!(matches!(
            LicenceId::build("11100000000013338X011", &issuer, "1", 1).unwrap_err(),
            IdError::InvalidEmbeddedCode { .. }
        ));
    }

    #[test]
    fn a_licence_serial_must_be_non_empty_upper_case_alphanumeric() {
        let issuer = CreditCode::parse("11430000006122244L").unwrap();
        for serial in ["", "abc", "12-3", "12.3"] {
            assert!(matches!(
                LicenceId::build("11100000000013338W011", &issuer, serial, 1).unwrap_err(),
                IdError::InvalidPart {
                    part: "serial number",
                    ..
                }
            ));
        }
    }

    #[test]
    fn a_licence_version_must_have_three_digits() {
        assert!(matches!(
            LicenceId::parse(
                "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.02.S"
            )
            .unwrap_err(),
            IdError::InvalidPart {
                part: "version",
                ..
            }
        ));
    }

    #[test]
    fn a_lower_case_check_character_is_rejected() {
        assert!(
            LicenceId::parse(
                "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.s"
            )
            .is_err()
        );
    }

    #[test]
    fn a_licence_identifier_round_trips_through_serde() {
        let licence = LicenceId::parse(LICENCE_VECTORS[3]).unwrap();
        assert_eq!(toml_round_trip(licence.clone()), licence);
        let invalid: Result<Wrapped<LicenceId>, _> = toml::from_str(
            "value = \"1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.1\"",
        );
        assert!(invalid.is_err());
    }

    // ---- region codes ----

    #[test]
    fn region_levels_follow_the_trailing_zeros() {
        let level = |text: &str| RegionCode::parse(text).unwrap().level();
        assert_eq!(level("110000"), RegionLevel::Province);
        assert_eq!(level("110100"), RegionLevel::Prefecture);
        assert_eq!(level("110108"), RegionLevel::County);
        assert_eq!(level("110108000000"), RegionLevel::County);
        assert_eq!(level("110000000000"), RegionLevel::Province);
        assert_eq!(level("653126100000"), RegionLevel::Township);
        assert_eq!(level("653126100039"), RegionLevel::Village);
        assert_eq!(level("441900003000"), RegionLevel::Township);
    }

    #[test]
    fn a_region_parent_zeroes_the_deepest_group_and_keeps_the_width() {
        let parent = |text: &str| {
            RegionCode::parse(text)
                .unwrap()
                .parent()
                .map(|code| code.to_string())
        };
        assert_eq!(parent("653126100039").as_deref(), Some("653126100000"));
        assert_eq!(parent("653126100000").as_deref(), Some("653126000000"));
        assert_eq!(parent("110108").as_deref(), Some("110100"));
        assert_eq!(parent("110100").as_deref(), Some("110000"));
        assert_eq!(parent("110000"), None);
        // A town of a prefecture-level city without counties hangs directly under the city.
        assert_eq!(parent("441900003000").as_deref(), Some("441900000000"));
    }

    #[test]
    fn a_region_contains_the_regions_below_it_and_itself() {
        let code = |text: &str| RegionCode::parse(text).unwrap();
        assert!(code("110000").contains(&code("110108")));
        assert!(code("110000").contains(&code("110108001000")));
        assert!(code("110100").contains(&code("110108")));
        assert!(code("110108").contains(&code("110108")));
        assert!(code("110108").contains(&code("110108000000")));
        assert!(code("110108000000").contains(&code("110108")));
        assert!(code("653126100000").contains(&code("653126100039")));
        assert!(!code("110108").contains(&code("110100")));
        assert!(!code("110108").contains(&code("110105")));
        assert!(!code("110000").contains(&code("120000")));
        assert!(!code("653126100039").contains(&code("653126100000")));
    }

    #[test]
    fn every_ancestor_of_a_region_contains_it() {
        let village = RegionCode::parse("653126100039").unwrap();
        let mut ancestor = village.parent();
        let mut levels = Vec::new();
        while let Some(current) = ancestor {
            assert!(current.contains(&village), "{current} contains {village}");
            assert!(
                !village.contains(&current),
                "{village} does not contain {current}"
            );
            levels.push(current.level());
            ancestor = current.parent();
        }
        assert_eq!(
            levels,
            vec![
                RegionLevel::Township,
                RegionLevel::County,
                RegionLevel::Prefecture,
                RegionLevel::Province
            ]
        );
    }

    #[test]
    fn malformed_region_codes_are_rejected() {
        let wrong_length = RegionCode::parse("11010").unwrap_err();
        assert_eq!(
            wrong_length,
            IdError::WrongLength {
                kind: IdKind::RegionCode,
                expected: "6 or 12",
                actual: 5,
            }
        );
        assert_eq!(wrong_length.code(), "invalid_region_code");
        assert!(matches!(
            RegionCode::parse("11010a").unwrap_err(),
            IdError::CharacterNotAllowed { position: 6, .. }
        ));
        assert!(matches!(
            RegionCode::parse("000000").unwrap_err(),
            IdError::InvalidPart {
                part: "province",
                ..
            }
        ));
        assert!(RegionCode::parse("11010800000").is_err());
    }

    #[test]
    fn a_region_code_round_trips_through_serde() {
        let code = RegionCode::parse("653126100039").unwrap();
        assert_eq!(toml_round_trip(code.clone()), code);
        let invalid: Result<Wrapped<RegionCode>, _> = toml::from_str("value = \"1101\"");
        assert!(invalid.is_err());
    }

    // ---- item codes, REFERENCE §1 ----

    #[test]
    fn a_basic_code_has_one_to_twelve_letters_or_digits() {
        assert_eq!(
            BasicCode::parse("000101001000").unwrap().as_str(),
            "000101001000"
        );
        assert!(BasicCode::parse("A1").is_ok());
        let too_long = BasicCode::parse("0001010010001").unwrap_err();
        assert_eq!(
            too_long,
            IdError::WrongLength {
                kind: IdKind::BasicCode,
                expected: "1 to 12",
                actual: 13,
            }
        );
        assert_eq!(too_long.code(), "invalid_item_code");
        assert!(BasicCode::parse("").is_err());
        assert!(BasicCode::parse("0001-01").is_err());
    }

    #[test]
    fn a_31_character_implementation_code_names_its_implementing_body() {
        let code = ImplementationCode::parse("11330105002500287C4330511700001").unwrap();
        assert_eq!(
            code.implementing_body().unwrap().as_str(),
            "11330105002500287C"
        );
        assert_eq!(code.as_str().len(), 31);
    }

    #[test]
    fn a_short_implementation_code_has_no_implementing_body() {
        let code = ImplementationCode::parse("000101001000").unwrap();
        assert_eq!(code.implementing_body(), None);
        let seventeen = ImplementationCode::parse("11330105002500287").unwrap();
        assert_eq!(seventeen.implementing_body(), None);
    }

    #[test]
    fn an_implementation_code_whose_first_18_characters_are_not_a_credit_code_is_rejected() {
        let error = ImplementationCode::parse("11330105002500287D4330511700001").unwrap_err();
        assert!(matches!(
            error,
            IdError::InvalidEmbeddedCode {
                kind: IdKind::ImplementationCode,
                ..
            }
        ));
        assert_eq!(error.code(), "invalid_item_code");
        assert!(error.to_string().contains("first 18 characters"), "{error}");
    }

    #[test]
    fn an_implementation_code_longer_than_36_characters_is_rejected() {
        let text = format!("11330105002500287C{}", "1".repeat(19));
        assert!(matches!(
            ImplementationCode::parse(&text).unwrap_err(),
            IdError::WrongLength { actual: 37, .. }
        ));
    }

    #[test]
    fn a_handling_code_has_one_to_36_visible_characters() {
        assert!(HandlingCode::parse("11330105002500287C433051170000101").is_ok());
        assert!(HandlingCode::parse("A-1_2").is_ok());
        let error = HandlingCode::parse("A 1").unwrap_err();
        assert_eq!(error.code(), "invalid_item_code");
        assert!(HandlingCode::parse("").is_err());
        assert!(HandlingCode::parse(&"1".repeat(37)).is_err());
    }

    #[test]
    fn item_codes_round_trip_through_serde() {
        let basic = BasicCode::parse("000101001000").unwrap();
        let implementation = ImplementationCode::parse("11330105002500287C4330511700001").unwrap();
        let handling = HandlingCode::parse("11330105002500287C433051170000101").unwrap();
        assert_eq!(toml_round_trip(basic.clone()), basic);
        assert_eq!(toml_round_trip(implementation.clone()), implementation);
        assert_eq!(toml_round_trip(handling.clone()), handling);
    }

    // ---- properties ----

    /// 17 digits with a real birth date: 6-digit area, YYYYMMDD, 3-digit sequence.
    fn id_number_body() -> impl Strategy<Value = String> {
        (0_u32..1_000_000, 1900_i16..2030, 1_i16..=365, 0_u32..1000).prop_map(
            |(area, year, day_of_year, sequence)| {
                let birth = date(year, 1, 1)
                    .with()
                    .day_of_year_no_leap(day_of_year)
                    .build()
                    .unwrap();
                format!("{area:06}{}{sequence:03}", birth.strftime("%Y%m%d"))
            },
        )
    }

    fn credit_code_body() -> impl Strategy<Value = String> {
        proptest::collection::vec(0_usize..31, 17).prop_map(|values| {
            values
                .into_iter()
                .map(|value| char::from(CREDIT_CODE_ALPHABET.as_bytes()[value]))
                .collect()
        })
    }

    proptest! {
        #[test]
        fn any_id_number_body_with_its_computed_check_parses(body in id_number_body()) {
            let check = id_number_check_char(&body).unwrap();
            let text = format!("{body}{check}");
            let id = IdNumber::parse(&text).unwrap();
            prop_assert_eq!(id.as_str(), text.as_str());
            prop_assert_eq!(&text[..6], id.region_prefix());
            let sequence_digit = text.as_bytes()[16] - b'0';
            prop_assert_eq!(id.sex() == Sex::Male, sequence_digit % 2 == 1);
        }

        #[test]
        fn changing_one_digit_of_an_id_number_breaks_it(
            body in id_number_body(),
            position in 0_usize..17,
            shift in 1_u8..10,
        ) {
            let check = id_number_check_char(&body).unwrap();
            let mut bytes = format!("{body}{check}").into_bytes();
            bytes[position] = b'0' + (bytes[position] - b'0' + shift) % 10;
            let tampered = String::from_utf8(bytes).unwrap();
            prop_assert!(IdNumber::parse(&tampered).is_err(), "{} should be rejected", tampered);
        }

        #[test]
        fn generated_credit_codes_round_trip(body in credit_code_body()) {
            let check = credit_code_check_char(&body).unwrap();
            let text = format!("{body}{check}");
            let code = CreditCode::parse(&text).unwrap();
            prop_assert_eq!(code.as_str(), text.as_str());
            prop_assert_eq!(code.to_string().parse::<CreditCode>().unwrap(), code.clone());
            prop_assert_eq!(toml_round_trip(code.clone()), code);
        }

        #[test]
        fn changing_one_character_of_a_credit_code_breaks_it(
            body in credit_code_body(),
            position in 0_usize..18,
            shift in 1_usize..31,
        ) {
            let check = credit_code_check_char(&body).unwrap();
            let mut bytes = format!("{body}{check}").into_bytes();
            let value = CREDIT_CODE_ALPHABET.find(char::from(bytes[position])).unwrap();
            bytes[position] = CREDIT_CODE_ALPHABET.as_bytes()[(value + shift) % 31];
            let tampered = String::from_utf8(bytes).unwrap();
            prop_assert!(CreditCode::parse(&tampered).is_err(), "{} should be rejected", tampered);
        }

        #[test]
        fn built_licence_identifiers_parse_back_to_themselves(
            defining_body in credit_code_body(),
            issuer_body in credit_code_body(),
            type_suffix in 0_u16..1000,
            serial in "[0-9A-Z]{1,24}",
            version in 0_u16..1000,
        ) {
            let defining_body = format!(
                "{defining_body}{}",
                credit_code_check_char(&defining_body).unwrap()
            );
            let issuer = CreditCode::parse(&format!(
                "{issuer_body}{}",
                credit_code_check_char(&issuer_body).unwrap()
            ))
            .unwrap();
            let type_code = format!("{defining_body}{type_suffix:03}");
            let built = LicenceId::build(&type_code, &issuer, &serial, version).unwrap();
            let parsed = LicenceId::parse(built.as_str()).unwrap();
            prop_assert_eq!(&parsed, &built);
            prop_assert_eq!(parsed.type_code(), type_code.as_str());
            prop_assert_eq!(parsed.issuer(), &issuer);
            prop_assert_eq!(parsed.serial(), serial.as_str());
            prop_assert_eq!(parsed.version(), version);
        }
    }
}
