//! GetRandomPassword: random passwords from the character classes AWS offers.
//!
//! The emulator draws from `fastrand`, which is not a cryptographic generator: these passwords
//! guard local test resources only.

/// AWS's punctuation class.
pub const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";

#[derive(Debug, Clone)]
pub struct Options {
    pub length: usize,
    pub exclude_characters: String,
    pub exclude_numbers: bool,
    pub exclude_punctuation: bool,
    pub exclude_uppercase: bool,
    pub exclude_lowercase: bool,
    pub include_space: bool,
    pub require_each_included_type: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            length: 32,
            exclude_characters: String::new(),
            exclude_numbers: false,
            exclude_punctuation: false,
            exclude_uppercase: false,
            exclude_lowercase: false,
            include_space: false,
            require_each_included_type: true,
        }
    }
}

/// A password, or the message of the InvalidParameterException AWS answers.
pub fn generate(o: &Options) -> Result<String, String> {
    let mut classes: Vec<Vec<char>> = Vec::new();
    let mut add = |skip: bool, chars: &str| {
        if !skip {
            let class: Vec<char> = chars.chars().filter(|c| !o.exclude_characters.contains(*c)).collect();
            if !class.is_empty() {
                classes.push(class);
            }
        }
    };
    add(o.exclude_lowercase, LOWER);
    add(o.exclude_uppercase, UPPER);
    add(o.exclude_numbers, DIGITS);
    add(o.exclude_punctuation, PUNCTUATION);
    add(!o.include_space, " ");
    if classes.is_empty() {
        return Err("The password must contain at least one character type: you excluded every character.".into());
    }
    if o.require_each_included_type && o.length < classes.len() {
        return Err(format!(
            "The password length {} is too short to include a character from each of the {} included types.",
            o.length,
            classes.len()
        ));
    }
    let all: Vec<char> = classes.iter().flatten().copied().collect();
    let mut password: Vec<char> = Vec::with_capacity(o.length);
    if o.require_each_included_type {
        password.extend(classes.iter().map(|class| class[fastrand::usize(..class.len())]));
    }
    while password.len() < o.length {
        password.push(all[fastrand::usize(..all.len())]);
    }
    fastrand::shuffle(&mut password);
    Ok(password.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_32_characters_of_every_class() {
        for _ in 0..50 {
            let p = generate(&Options::default()).unwrap();
            assert_eq!(p.chars().count(), 32);
            assert!(p.chars().any(|c| c.is_ascii_lowercase()));
            assert!(p.chars().any(|c| c.is_ascii_uppercase()));
            assert!(p.chars().any(|c| c.is_ascii_digit()));
            assert!(p.chars().any(|c| PUNCTUATION.contains(c)));
            assert!(!p.contains(' '));
        }
    }

    #[test]
    fn exclusions_and_space() {
        let o = Options {
            length: 40,
            exclude_characters: "abc".into(),
            exclude_punctuation: true,
            exclude_uppercase: true,
            include_space: true,
            ..Default::default()
        };
        for _ in 0..50 {
            let p = generate(&o).unwrap();
            assert!(p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == ' '));
            assert!(!p.contains(['a', 'b', 'c']));
            assert!(p.contains(' '));
        }
    }

    #[test]
    fn impossible_requests_fail() {
        let none = Options {
            exclude_numbers: true,
            exclude_punctuation: true,
            exclude_uppercase: true,
            exclude_lowercase: true,
            ..Default::default()
        };
        assert!(generate(&none).is_err());
        assert!(generate(&Options { length: 3, ..Default::default() }).is_err());
        assert_eq!(
            generate(&Options { length: 3, require_each_included_type: false, ..Default::default() }).unwrap().len(),
            3
        );
    }
}
