//! The Kazakh individual identification number (ЖСН / ИИН, IIN) of a child on a roster:
//! validated, compared with the roster's birth date and sex, and turned into a keyed hash,
//! the only form in which it is ever kept.
//!
//! An IIN is 12 digits `YYMMDD C SSSS K`: the birth date, a century-and-sex digit, a
//! serial and a check digit (Law of the Republic of Kazakhstan of 12 January 2007 No. 223
//! "On national registers of identification numbers", art. 1: the control digit completes
//! the number "to control the correctness of its formation"; the structure and the check
//! digit are set by the Rules for forming the identification number, approved by Government
//! resolution No. 406 of 22 May 2007, adilet.zan.kz document `P070000406_`). See [`Iin`]
//! for the rule as checked here.
//!
//! The number itself must not leak: [`Iin`] has no `Display`, no serde, and its `Debug`
//! prints `Iin(…)`; no error message contains it. What a store keeps is
//! [`Iin::keyed_hash`]: HMAC-SHA-256 (RFC 2104) of the 12 ASCII digits under a server
//! secret ([`IinKey`]), which finds the same child across cohorts and centres without
//! being reversible by anyone who lacks the secret (an unkeyed hash is not: once the birth
//! date is guessed, at most 10⁴ serials remain to try).

use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, KeyInit, Mac};
use jiff::civil::Date;
use sha2::Sha256;
use thiserror::Error;

/// The number of digits of an IIN.
pub const IIN_LEN: usize = 12;

/// Weights of the first pass of the check digit, over digits 1–11.
const WEIGHTS_FIRST: [u32; 11] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
/// Weights of the second pass, used when the first gives 10.
const WEIGHTS_SECOND: [u32; 11] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];

/// The sex an IIN's 7th digit records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IinSex {
    /// Even century digit (2, 4, 6).
    Female,
    /// Odd century digit (1, 3, 5).
    Male,
}

/// Why a text is not a valid IIN. No message contains the IIN (nor any part of it but,
/// for [`IinError::InvalidCenturyDigit`] and [`IinError::CheckDigit`], single digits), so
/// they can be shown as "line N, column iin: <reason>" and logged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IinError {
    /// After trimming surrounding spaces, the text is not 12 characters long.
    #[error("an IIN has exactly 12 digits, this has {found} characters")]
    WrongLength {
        /// The number of characters (not bytes) found.
        found: usize,
    },
    /// A character is not an ASCII digit `0`–`9`.
    #[error("an IIN has only digits, character {position} is not one")]
    NotADigit {
        /// 1-based position of the first offending character (after trimming).
        position: usize,
    },
    /// The 7th digit is not one of 1–6.
    #[error("the IIN's 7th digit (century and sex) is {digit}, not one of 1–6")]
    InvalidCenturyDigit {
        /// The digit found (0, 7, 8 or 9).
        digit: u8,
    },
    /// Digits 1–6 with the century of digit 7 are not a calendar date.
    #[error("the IIN's first six digits are not a calendar date (YYMMDD)")]
    ImpossibleDate,
    /// The 12th digit is not the check digit of digits 1–11.
    #[error("the IIN's check digit is wrong (expected {expected}, found {found}): a digit is mistyped")]
    CheckDigit {
        /// The check digit that digits 1–11 give.
        expected: u8,
        /// The 12th digit.
        found: u8,
    },
    /// Digits 1–11 have no check digit (both passes give 10): no such IIN is issued.
    #[error("the IIN cannot exist: its first 11 digits have no check digit (a digit is mistyped)")]
    NotIssued,
}

/// How an IIN disagrees with the birth date and sex a roster gives for the same child.
///
/// Since the amendment of the formation rules by Government resolution No. 853 of 26 August
/// 2013, an IIN is no longer required to reflect its holder's personal data, and an IIN is
/// not re-issued when the data in it change (e.g. a corrected birth date): the Ministry of
/// Justice stated in 2019 that an IIN not matching the birth date is not an error. A
/// mismatch is therefore a reason to check the roster line, not proof that it is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum IinMismatch {
    /// The birth date in the IIN differs from the roster's.
    #[error("the IIN's birth date differs from birth_date")]
    BirthDate,
    /// The sex in the IIN differs from the roster's.
    #[error("the IIN's sex differs from sex")]
    Sex,
    /// Both differ.
    #[error("the IIN's birth date differs from birth_date and its sex from sex")]
    BirthDateAndSex,
}

/// A valid IIN of a person.
///
/// Rule checked by [`Iin::parse`] (structure: Government resolution of the Republic of
/// Kazakhstan No. 406 of 22 May 2007, "Rules for forming the identification number",
/// adilet.zan.kz `P070000406_`; the weights as implemented by the public validator
/// `valery1707/kaz-person-id`, `PersonIdUtils.isValidCRC`, which cites those Rules, and
/// checked against its published valid numbers in `tests/data/iin_reference.csv`):
///
/// * surrounding spaces (U+0020 only) are trimmed; what remains is exactly 12 ASCII digits;
/// * digits 1–6 are the birth date `YYMMDD`;
/// * digit 7 gives century and sex: 1 male / 2 female born 18YY, 3 / 4 born 19YY,
///   5 / 6 born 20YY; 0 and 7–9 are refused (they are not a person's birth century);
/// * the date must exist in the (proleptic Gregorian) calendar: 31 February is refused;
/// * digits 8–11 are a serial;
/// * digit 12 is the check digit: Σ dᵢ·i over i = 1..11, mod 11; if that is 10, a second
///   pass with weights 3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2, mod 11; if that is again 10 the
///   first 11 digits have no check digit and no such IIN is issued ([`IinError::NotIssued`]).
///
/// What the check digit catches (checked by proptest in `tests/iin_properties.rs`): any
/// change of digit 12; any change of one of digits 1–10 when the original and the altered
/// number both take the first pass. It does **not** catch a change of digit 11 when the
/// first pass applies (about 10 IINs in 11): its weight there is 11 ≡ 0 (mod 11), so a
/// mistyped last serial digit gives another valid IIN with the same date and sex. A change
/// of digits 1–10 that switches pass can go unnoticed (about 1 such change in 60 overall).
///
/// A birth date in the future is not refused here (the library has no clock); the roster's
/// own birth date and the test date bound it.
///
/// `Debug` prints `Iin(…)`; there is no `Display` and no serde, so the number cannot reach
/// a log or a store by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Iin {
    /// The 12 ASCII digits.
    digits: [u8; IIN_LEN],
    birth_date: Date,
    sex: IinSex,
}

impl fmt::Debug for Iin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Iin(…)")
    }
}

impl FromStr for Iin {
    type Err = IinError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Iin::parse(s)
    }
}

impl Iin {
    /// Parses and validates an IIN (see [`Iin`] for the rule). Checks, in order: length,
    /// digits, century digit, date, check digit.
    pub fn parse(text: &str) -> Result<Iin, IinError> {
        let text = text.trim_matches(' ');
        let found = text.chars().count();
        if found != IIN_LEN {
            return Err(IinError::WrongLength { found });
        }
        // 12 characters: if all are ASCII digits there are 12 bytes.
        if let Some(i) = text.chars().position(|c| !c.is_ascii_digit()) {
            return Err(IinError::NotADigit { position: i + 1 });
        }
        let mut digits = [0u8; IIN_LEN];
        digits.copy_from_slice(text.as_bytes());
        let d = |i: usize| digits[i] - b'0';
        let (century, sex) = century_and_sex(d(6)).ok_or(IinError::InvalidCenturyDigit { digit: d(6) })?;
        let two = |i: usize| d(i) * 10 + d(i + 1);
        let year = century + i16::from(two(0));
        // Two digits each: at most 99, fits in i8.
        let (month, day) = (two(2) as i8, two(4) as i8);
        let birth_date = Date::new(year, month, day).map_err(|_| IinError::ImpossibleDate)?;
        let mut values = [0u8; IIN_LEN - 1];
        for (v, &c) in values.iter_mut().zip(&digits) {
            *v = c - b'0';
        }
        let expected = check_digit(&values).ok_or(IinError::NotIssued)?;
        let found = d(11);
        if expected != found {
            return Err(IinError::CheckDigit { expected, found });
        }
        Ok(Iin {
            digits,
            birth_date,
            sex,
        })
    }

    /// The birth date in digits 1–7.
    pub fn birth_date(&self) -> Date {
        self.birth_date
    }

    /// The sex in digit 7.
    pub fn sex(&self) -> IinSex {
        self.sex
    }

    /// Compares the IIN with the birth date and (when the roster gives one) the sex that a
    /// roster gives for the same child. A mismatch is a reason to check the line, not proof
    /// of an error: see [`IinMismatch`].
    pub fn check_against(&self, birth_date: Date, sex: Option<IinSex>) -> Result<(), IinMismatch> {
        let date_differs = self.birth_date != birth_date;
        let sex_differs = sex.is_some_and(|s| s != self.sex);
        match (date_differs, sex_differs) {
            (false, false) => Ok(()),
            (true, false) => Err(IinMismatch::BirthDate),
            (false, true) => Err(IinMismatch::Sex),
            (true, true) => Err(IinMismatch::BirthDateAndSex),
        }
    }

    /// HMAC-SHA-256 (RFC 2104, FIPS 180-4) of the 12 ASCII digits under `key`: the form in
    /// which an IIN is stored and matched.
    pub fn keyed_hash(&self, key: &IinKey) -> IinHash {
        let mut mac = key.mac.clone();
        mac.update(&self.digits);
        IinHash::from_bytes(&mac.finalize().into_bytes())
    }

    /// A valid IIN for `birth_date`, `sex` and `serial` (digits 8–11), with its check digit:
    /// for demonstration rosters and tests only, never a real child's number.
    ///
    /// `None` when the year is outside 1800–2099, the serial above 9999, or the first 11
    /// digits have no check digit (not issued; about 1 serial in 100 — try the next one).
    pub fn example(birth_date: Date, sex: IinSex, serial: u16) -> Option<String> {
        if serial > 9999 {
            return None;
        }
        let year = birth_date.year();
        let century_digit = match (year.div_euclid(100), sex) {
            (18, IinSex::Male) => 1,
            (18, IinSex::Female) => 2,
            (19, IinSex::Male) => 3,
            (19, IinSex::Female) => 4,
            (20, IinSex::Male) => 5,
            (20, IinSex::Female) => 6,
            _ => return None,
        };
        let yy = year.rem_euclid(100);
        let first = format!(
            "{yy:02}{:02}{:02}{century_digit}{serial:04}",
            birth_date.month(),
            birth_date.day()
        );
        let mut values = [0u8; IIN_LEN - 1];
        for (v, c) in values.iter_mut().zip(first.bytes()) {
            *v = c - b'0';
        }
        let check = check_digit(&values)?;
        Some(format!("{first}{check}"))
    }
}

/// The first year of the century and the sex that a 7th digit gives.
fn century_and_sex(digit: u8) -> Option<(i16, IinSex)> {
    Some(match digit {
        1 => (1800, IinSex::Male),
        2 => (1800, IinSex::Female),
        3 => (1900, IinSex::Male),
        4 => (1900, IinSex::Female),
        5 => (2000, IinSex::Male),
        6 => (2000, IinSex::Female),
        _ => return None,
    })
}

/// The check digit of digits 1–11 (values 0–9), or `None` when both passes give 10.
fn check_digit(values: &[u8; IIN_LEN - 1]) -> Option<u8> {
    let pass = |weights: &[u32; 11]| {
        let sum: u32 = values.iter().zip(weights).map(|(&v, &w)| u32::from(v) * w).sum();
        // A remainder mod 11: fits in u8.
        (sum % 11) as u8
    };
    [WEIGHTS_FIRST, WEIGHTS_SECOND].iter().map(pass).find(|&r| r < 10)
}

/// The smallest secret [`IinKey::new`] accepts, in bytes: the output size of SHA-256, as
/// RFC 2104 §3 recommends as the least key length.
pub const IIN_KEY_MIN_LEN: usize = 32;

/// The server secret under which IINs are hashed. `Debug` prints `IinKey(…)`.
///
/// Keys longer than SHA-256's 64-byte block are first hashed, as RFC 2104 §2 specifies.
#[derive(Clone)]
pub struct IinKey {
    mac: Hmac<Sha256>,
}

impl fmt::Debug for IinKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IinKey(…)")
    }
}

/// A secret too short to key IIN hashes.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("an IIN hashing key has at least {IIN_KEY_MIN_LEN} bytes, this one has {len}")]
pub struct IinKeyError {
    /// The length of the refused secret, in bytes.
    pub len: usize,
}

impl IinKey {
    /// A key from `secret`, which must have at least [`IIN_KEY_MIN_LEN`] bytes.
    pub fn new(secret: &[u8]) -> Result<IinKey, IinKeyError> {
        if secret.len() < IIN_KEY_MIN_LEN {
            return Err(IinKeyError { len: secret.len() });
        }
        Ok(IinKey {
            mac: hmac_sha256_key(secret),
        })
    }
}

/// HMAC-SHA-256 keyed with `key`, of any length (the length floor is [`IinKey::new`]'s).
fn hmac_sha256_key(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length: RFC 2104 §2 hashes longer ones, pads shorter ones.
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// A keyed hash of an IIN: 64 lowercase hexadecimal digits (32 bytes of HMAC-SHA-256), as
/// shown (`Display`, [`IinHash::as_str`]) and as read back ([`FromStr`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IinHash(String);

/// A text that is not 64 lowercase hexadecimal digits.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("an IIN hash is 64 lowercase hexadecimal digits")]
pub struct IinHashError;

impl IinHash {
    fn from_bytes(bytes: &[u8]) -> IinHash {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(bytes.len() * 2);
        for &b in bytes {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        IinHash(s)
    }

    /// The 64 lowercase hexadecimal digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IinHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for IinHash {
    type Err = IinHashError;

    /// Exactly 64 characters `0-9a-f` (uppercase refused: one hash, one spelling).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(IinHash(s.to_owned()))
        } else {
            Err(IinHashError)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hmac_hex(key: &[u8], data: &[u8]) -> String {
        let mut mac = hmac_sha256_key(key);
        mac.update(data);
        IinHash::from_bytes(&mac.finalize().into_bytes()).0
    }

    /// RFC 4231 §4.3, test case 2 (short key), and §4.7/§4.8, test cases 6 and 7 (a key
    /// longer than the block, hashed first).
    #[test]
    fn hmac_matches_rfc_4231() {
        assert_eq!(
            hmac_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let long = [0xaa_u8; 131];
        assert_eq!(
            hmac_hex(&long, b"Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        assert_eq!(
            hmac_hex(
                &long,
                b"This is a test using a larger than block-size key and a larger than block-size \
                  data. The key needs to be hashed before being used by the HMAC algorithm."
            ),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
        );
    }

    #[test]
    fn nothing_leaks_in_debug_or_errors() {
        let text = "871008401427";
        let iin = Iin::parse(text).expect("valid");
        assert_eq!(format!("{iin:?}"), "Iin(…)");
        let key = IinKey::new(&[7; 32]).expect("32 bytes");
        assert_eq!(format!("{key:?}"), "IinKey(…)");
        for bad in [
            "871008401428",
            "87100840142",
            "8710084014x7",
            "871308401427",
            "871008901427",
        ] {
            let e = Iin::parse(bad).expect_err(bad).to_string();
            assert!(!e.contains(bad) && !e.contains(&bad[..6]), "{e}");
        }
    }

    #[test]
    fn key_length_floor() {
        assert_eq!(IinKey::new(&[1; 31]).unwrap_err(), IinKeyError { len: 31 });
        assert!(IinKey::new(&[1; 32]).is_ok());
        assert!(IinKey::new(&[1; 200]).is_ok());
    }
}
