//! DynamoDB's number type: a decimal of at most 38 significant digits with a magnitude between
//! 1E-130 and 9.9999999999999999999999999999999999999E+125, exact under addition and subtraction
//! (never a float: `0.1 + 0.2` is `0.3`).
//!
//! A value is `sign × mantissa × 10^exponent` with the mantissa stripped of trailing zeros, so
//! equal numbers have equal representations and the derived `Eq`/`Hash` are numeric equality.

use std::cmp::Ordering;
use std::fmt;

/// At most this many significant digits.
pub const MAX_DIGITS: u32 = 38;
/// Largest and smallest adjusted exponent (the exponent of the leading digit).
const MAX_ADJUSTED: i64 = 125;
const MIN_ADJUSTED: i64 = -130;
/// 10^38: every mantissa is below it.
const MANTISSA_LIMIT: u128 = 10u128.pow(MAX_DIGITS);

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Number {
    negative: bool,
    mantissa: u128,
    exponent: i32,
}

/// Why a text or a computation is not a DynamoDB number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberError {
    /// Not numeric text at all (`NaN`, ` 1`, `1e`).
    Invalid(String),
    /// Magnitude ≥ 1E+126.
    Overflow,
    /// Non-zero magnitude < 1E-130.
    Underflow,
    /// More than 38 significant digits.
    Precision,
}

impl NumberError {
    /// AWS's ValidationException message.
    pub fn message(&self) -> String {
        match self {
            NumberError::Invalid(text) => format!("The parameter cannot be converted to a numeric value: {text}"),
            NumberError::Overflow => {
                "Number overflow. Attempting to store a number with magnitude larger than supported range".to_owned()
            }
            NumberError::Underflow => {
                "Number underflow. Attempting to store a number with magnitude smaller than supported range".to_owned()
            }
            NumberError::Precision => "Attempting to store more than 38 significant digits in a Number".to_owned(),
        }
    }
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

fn digit_count(mut m: u128) -> u32 {
    let mut n = 1;
    while m >= 10 {
        m /= 10;
        n += 1;
    }
    n
}

impl Number {
    pub const ZERO: Number = Number { negative: false, mantissa: 0, exponent: 0 };

    /// Builds a number from parts, normalizing and checking precision and range.
    fn from_parts(negative: bool, mut mantissa: u128, exponent: i64) -> Result<Number, NumberError> {
        if mantissa == 0 {
            return Ok(Number::ZERO);
        }
        let mut exponent = exponent;
        while mantissa.is_multiple_of(10) {
            mantissa /= 10;
            exponent += 1;
        }
        let adjusted = exponent + digit_count(mantissa) as i64 - 1;
        if adjusted > MAX_ADJUSTED {
            return Err(NumberError::Overflow);
        }
        if adjusted < MIN_ADJUSTED {
            return Err(NumberError::Underflow);
        }
        if mantissa >= MANTISSA_LIMIT {
            return Err(NumberError::Precision);
        }
        Ok(Number { negative, mantissa, exponent: exponent as i32 })
    }

    /// Parses DynamoDB's number syntax: optional sign, digits with an optional point (`.5`, `5.`),
    /// optional exponent. No whitespace, no `NaN`/`Infinity`, no hex.
    pub fn parse(text: &str) -> Result<Number, NumberError> {
        let invalid = || NumberError::Invalid(text.to_owned());
        let bytes = text.as_bytes();
        let mut i = 0;
        let negative = match bytes.first() {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        // Significant digits (from the first non-zero one), the digits after the point, and
        // whether any digit was seen at all.
        let mut significant: Vec<u8> = Vec::new();
        let mut fraction_len: i64 = 0;
        let mut any_digit = false;
        let mut seen_point = false;
        while i < bytes.len() {
            match bytes[i] {
                d @ b'0'..=b'9' => {
                    any_digit = true;
                    if seen_point {
                        fraction_len += 1;
                    }
                    if d != b'0' || !significant.is_empty() {
                        significant.push(d - b'0');
                    }
                }
                b'.' if !seen_point => seen_point = true,
                b'e' | b'E' => break,
                _ => return Err(invalid()),
            }
            i += 1;
        }
        if !any_digit {
            return Err(invalid());
        }
        let mut exponent: i64 = 0;
        if i < bytes.len() {
            // An exponent: `e`, optional sign, at least one digit.
            i += 1;
            let exp_negative = match bytes.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            if i >= bytes.len() {
                return Err(invalid());
            }
            for &b in &bytes[i..] {
                if !b.is_ascii_digit() {
                    return Err(invalid());
                }
                // Saturate: anything this large is out of range anyway.
                exponent = (exponent * 10 + (b - b'0') as i64).min(1_000_000_000);
            }
            if exp_negative {
                exponent = -exponent;
            }
        }
        while significant.last() == Some(&0) {
            significant.pop();
            exponent += 1;
        }
        if significant.is_empty() {
            return Ok(Number::ZERO);
        }
        if significant.len() > MAX_DIGITS as usize {
            return Err(NumberError::Precision);
        }
        let mantissa = significant.iter().fold(0u128, |m, &d| m * 10 + d as u128);
        Number::from_parts(negative, mantissa, exponent - fraction_len)
    }

    pub fn from_i64(v: i64) -> Number {
        let n = Number { negative: v < 0, mantissa: v.unsigned_abs() as u128, exponent: 0 };
        Number::from_parts(n.negative, n.mantissa, 0).unwrap_or(Number::ZERO)
    }

    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Number of significant digits (1 for zero), which AWS's item size counts.
    pub fn significant_digits(&self) -> u32 {
        digit_count(self.mantissa)
    }

    pub fn negate(self) -> Number {
        if self.is_zero() { self } else { Number { negative: !self.negative, ..self } }
    }

    /// Exact sum; an error when the result needs more than 38 digits or leaves the range.
    pub fn checked_add(self, other: Number) -> Result<Number, NumberError> {
        if self.is_zero() {
            return Ok(other);
        }
        if other.is_zero() {
            return Ok(self);
        }
        // Align on the smaller exponent. Only the operand with the larger exponent is scaled; if
        // that overflows u128 the exact result has more than 38 digits, since the other operand
        // is below 10^38 and the result's last digit sits at the smaller exponent.
        let (hi, lo) = if self.exponent >= other.exponent { (self, other) } else { (other, self) };
        let shift = (hi.exponent as i64 - lo.exponent as i64) as u32;
        let scaled =
            10u128.checked_pow(shift).and_then(|p| hi.mantissa.checked_mul(p)).ok_or(NumberError::Precision)?;
        let (negative, mantissa) = if hi.negative == lo.negative {
            (hi.negative, scaled.checked_add(lo.mantissa).ok_or(NumberError::Precision)?)
        } else if scaled >= lo.mantissa {
            (hi.negative, scaled - lo.mantissa)
        } else {
            (lo.negative, lo.mantissa - scaled)
        };
        Number::from_parts(negative, mantissa, lo.exponent as i64)
    }

    pub fn checked_sub(self, other: Number) -> Result<Number, NumberError> {
        self.checked_add(other.negate())
    }

    /// The exponent of the leading digit.
    fn adjusted(&self) -> i64 {
        self.exponent as i64 + digit_count(self.mantissa) as i64 - 1
    }

    fn cmp_magnitude(&self, other: &Number) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        self.adjusted().cmp(&other.adjusted()).then_with(|| {
            // Same leading position: compare the digit strings padded to equal length (≤ 38).
            let (d1, d2) = (digit_count(self.mantissa), digit_count(other.mantissa));
            let n = d1.max(d2);
            (self.mantissa * 10u128.pow(n - d1)).cmp(&(other.mantissa * 10u128.pow(n - d2)))
        })
    }

    /// Appends a byte encoding whose bytewise order is numeric order (for sorted keys).
    pub fn encode_ordered(&self, out: &mut Vec<u8>) {
        if self.is_zero() {
            out.push(0x02);
            return;
        }
        // Biased adjusted exponent fits in a u16; negative numbers invert everything so that
        // larger magnitudes sort first, and end with 0xFF so a longer digit string sorts before.
        let exp = (self.adjusted() + 1000) as u16;
        let digits = self.mantissa.to_string();
        if self.negative {
            out.push(0x01);
            out.extend_from_slice(&(!exp).to_be_bytes());
            out.extend(digits.bytes().map(|d| 10 - (d - b'0')));
            out.push(0xFF);
        } else {
            out.push(0x03);
            out.extend_from_slice(&exp.to_be_bytes());
            out.extend(digits.bytes().map(|d| d - b'0' + 1));
            out.push(0x00);
        }
    }

    /// The value as an i64 when it is an integer in range (TTL timestamps).
    pub fn to_i64(&self) -> Option<i64> {
        if self.exponent < 0 {
            return None;
        }
        let v = self.mantissa.checked_mul(10u128.checked_pow(self.exponent as u32)?)?;
        let v = i64::try_from(v).ok()?;
        Some(if self.negative { -v } else { v })
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        let sign = |n: &Number| {
            if n.is_zero() {
                0
            } else if n.negative {
                -1
            } else {
                1
            }
        };
        sign(self).cmp(&sign(other)).then_with(|| {
            let m = self.cmp_magnitude(other);
            if self.negative { m.reverse() } else { m }
        })
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::str::FromStr for Number {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Number, NumberError> {
        Number::parse(s)
    }
}

/// Plain notation without trailing zeros, as DynamoDB returns numbers (`1.50` → `1.5`,
/// `1e3` → `1000`, `-0` → `0`).
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let digits = self.mantissa.to_string();
        let mut out = String::with_capacity(digits.len() + 4);
        if self.negative {
            out.push('-');
        }
        if self.exponent >= 0 {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', self.exponent as usize));
        } else {
            let point = digits.len() as i64 + self.exponent as i64;
            if point > 0 {
                out.push_str(&digits[..point as usize]);
                out.push('.');
                out.push_str(&digits[point as usize..]);
            } else {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', (-point) as usize));
                out.push_str(&digits);
            }
        }
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn fmt(s: &str) -> String {
        n(s).to_string()
    }

    #[test]
    fn parses_and_formats_like_dynamodb() {
        assert_eq!(fmt("+3"), "3");
        assert_eq!(fmt(".123"), "0.123");
        assert_eq!(fmt("0001.23"), "1.23");
        assert_eq!(fmt("1.50"), "1.5");
        assert_eq!(fmt("1e3"), "1000");
        assert_eq!(fmt("1E+3"), "1000");
        assert_eq!(fmt("12.5e-3"), "0.0125");
        assert_eq!(fmt("5."), "5");
        assert_eq!(fmt("-0"), "0");
        assert_eq!(fmt("-0.000"), "0");
        assert_eq!(fmt("0e999999999999"), "0");
        assert_eq!(fmt("-42"), "-42");
        assert_eq!(fmt("100"), "100");
        assert_eq!(fmt("0.00100"), "0.001");
        assert_eq!(fmt("1E-130"), format!("0.{}1", "0".repeat(129)));
        assert_eq!(fmt("1E125"), format!("1{}", "0".repeat(125)));
        // Trailing zeros are not significant digits.
        assert_eq!(fmt(&format!("1{}", "0".repeat(60))), format!("1{}", "0".repeat(60)));
        assert_eq!(fmt(&format!("{}1", "0".repeat(60))), "1");
    }

    #[test]
    fn thirty_eight_digits_are_kept_exactly() {
        let max = "9".repeat(38);
        assert_eq!(fmt(&max), max);
        let frac = format!("0.{}", "1".repeat(38));
        assert_eq!(fmt(&frac), frac);
        let big = format!("9.{}E+125", "9".repeat(37));
        assert_eq!(fmt(&big), format!("{}{}", "9".repeat(38), "0".repeat(88)));
        let neg = "-1234567890123456789012345678901234567.8".to_owned();
        assert_eq!(fmt(&neg), neg);
    }

    #[test]
    fn rejects_what_dynamodb_rejects() {
        for bad in [
            "NaN",
            "Infinity",
            "-Infinity",
            " 1",
            "1 ",
            "",
            "+",
            "-",
            ".",
            "1e",
            "e5",
            "--1",
            "0x10",
            "1.2.3",
            "1e+",
            "1e1.5",
            "١",
        ] {
            assert_eq!(Number::parse(bad), Err(NumberError::Invalid(bad.to_owned())), "{bad:?}");
        }
        assert_eq!(
            Number::parse("NaN").unwrap_err().message(),
            "The parameter cannot be converted to a numeric value: NaN"
        );
    }

    #[test]
    fn range_and_precision_errors() {
        assert_eq!(Number::parse("1E126"), Err(NumberError::Overflow));
        assert_eq!(Number::parse("-1E126"), Err(NumberError::Overflow));
        assert_eq!(Number::parse("1e999999999999999999"), Err(NumberError::Overflow));
        assert_eq!(Number::parse("1E-131"), Err(NumberError::Underflow));
        assert_eq!(Number::parse("0.9E-130"), Err(NumberError::Underflow));
        assert_eq!(Number::parse(&"1".repeat(39)), Err(NumberError::Precision));
        assert_eq!(Number::parse(&format!("0.{}", "1".repeat(39))), Err(NumberError::Precision));
        assert!(Number::parse(&format!("{}E+88", "9".repeat(38))).is_ok());
        assert_eq!(Number::parse(&format!("{}E+89", "9".repeat(38))), Err(NumberError::Overflow));
        assert_eq!(
            NumberError::Overflow.message(),
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        );
        assert_eq!(
            NumberError::Underflow.message(),
            "Number underflow. Attempting to store a number with magnitude smaller than supported range"
        );
        assert_eq!(NumberError::Precision.message(), "Attempting to store more than 38 significant digits in a Number");
    }

    #[test]
    fn addition_and_subtraction_are_exact() {
        assert_eq!(n("0.1").checked_add(n("0.2")).unwrap().to_string(), "0.3");
        assert_eq!(n("0.3").checked_sub(n("0.1")).unwrap().to_string(), "0.2");
        assert_eq!(n("1").checked_sub(n("1")).unwrap(), Number::ZERO);
        assert_eq!(n("5").checked_sub(n("7")).unwrap().to_string(), "-2");
        assert_eq!(n("-5").checked_add(n("-7")).unwrap().to_string(), "-12");
        assert_eq!(n("1e10").checked_add(n("1e-10")).unwrap().to_string(), "10000000000.0000000001");
        assert_eq!(n("0").checked_add(n("-3.5")).unwrap().to_string(), "-3.5");
        assert_eq!(n("2.5").checked_add(n("2.5")).unwrap().to_string(), "5");
        // 38 nines plus one needs 39 digits before the trailing zeros are stripped: 1E38 is fine.
        assert_eq!(n(&"9".repeat(38)).checked_add(n("1")).unwrap().to_string(), format!("1{}", "0".repeat(38)));
        // A 38-digit value plus a tiny one would need more than 38 digits.
        assert_eq!(n(&"9".repeat(38)).checked_add(n("0.1")), Err(NumberError::Precision));
        assert_eq!(n("1e100").checked_add(n("1e-100")), Err(NumberError::Precision));
        assert_eq!(n("1e100").checked_sub(n("1")), Err(NumberError::Precision));
        // Cancelling leading digits is fine.
        let a = n(&format!("1{}", "0".repeat(37)));
        assert_eq!(a.checked_sub(n(&"9".repeat(37))).unwrap().to_string(), "1");
        let max = n(&format!("9.{}E+125", "9".repeat(37)));
        assert_eq!(max.checked_add(max), Err(NumberError::Overflow));
        assert_eq!(n("1E-129").checked_sub(n("0.9E-129")).unwrap().to_string(), format!("0.{}1", "0".repeat(129)));
    }

    #[test]
    fn comparison_is_numeric() {
        let mut values: Vec<Number> =
            ["10", "-1", "0", "1e2", "0.5", "-0.5", "-100", "9", "1.000001", "1", "-1E-130", "1E125", "-1E125"]
                .iter()
                .map(|s| n(s))
                .collect();
        values.sort();
        let shown: Vec<String> = values.iter().map(|v| format!("{:e}", Sci(*v))).collect();
        assert_eq!(
            shown,
            ["-1e125", "-100", "-1", "-0.5", "-1e-130", "0", "0.5", "1", "1.000001", "9", "10", "100", "1e125"]
        );
        assert_eq!(n("1.0"), n("1"));
        assert_eq!(n("1.0").cmp(&n("1")), Ordering::Equal);
        assert!(n("-2") < n("-1.5"));
        assert!(n("123") < n("124"));
        assert!(n("12") < n("123"));
        assert!(n("-12") > n("-123"));
    }

    /// Compact formatting for the sort test.
    struct Sci(Number);
    impl fmt::LowerExp for Sci {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let s = self.0.to_string();
            if s.len() > 20 {
                let sign = if self.0.negative { "-" } else { "" };
                write!(f, "{sign}1e{}", self.0.adjusted())
            } else {
                f.write_str(&s)
            }
        }
    }

    #[test]
    fn ordered_encoding_sorts_numerically() {
        let texts = [
            "-1E125", "-100", "-12", "-11.5", "-1", "-0.5", "-1E-130", "0", "1E-130", "0.5", "1", "1.5", "12", "100",
            "123", "1E125",
        ];
        let encoded: Vec<Vec<u8>> = texts
            .iter()
            .map(|t| {
                let mut v = Vec::new();
                n(t).encode_ordered(&mut v);
                v
            })
            .collect();
        for pair in encoded.windows(2) {
            assert!(pair[0] < pair[1], "{pair:?}");
        }
        // Encodings are self-delimiting: a number followed by more bytes still sorts by the number.
        let mut a = Vec::new();
        n("12").encode_ordered(&mut a);
        a.push(0xFF);
        let mut b = Vec::new();
        n("123").encode_ordered(&mut b);
        assert!(a < b);
    }

    #[test]
    fn integer_conversion() {
        assert_eq!(n("1700000000").to_i64(), Some(1_700_000_000));
        assert_eq!(n("-5e2").to_i64(), Some(-500));
        assert_eq!(n("1.5").to_i64(), None);
        assert_eq!(Number::from_i64(-42).to_string(), "-42");
        assert_eq!(Number::from_i64(0), Number::ZERO);
        assert_eq!(n("12.5").significant_digits(), 3);
    }
}
