//! Tokens of DynamoDB expressions, with their byte spans for error messages.

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// A bare name or keyword (`a`, `AND`, `attribute_exists`).
    Ident(String),
    /// `#name`
    NameRef(String),
    /// `:value`
    ValueRef(String),
    /// A run of digits (list indexes).
    Int(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    /// A character no expression may contain.
    Bad(char),
    Eof,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// Whether this is the keyword `kw` (keywords are case-insensitive).
    pub fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.tok, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }
}

fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Splits an expression into tokens; the last one is always `Eof`.
pub fn tokenize(src: &str) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let run = |from: usize| {
            let mut j = from;
            while j < bytes.len() && is_name_char(bytes[j]) {
                j += 1;
            }
            j
        };
        let (tok, end) = match c {
            b'(' => (Tok::LParen, i + 1),
            b')' => (Tok::RParen, i + 1),
            b'[' => (Tok::LBracket, i + 1),
            b']' => (Tok::RBracket, i + 1),
            b',' => (Tok::Comma, i + 1),
            b'.' => (Tok::Dot, i + 1),
            b'+' => (Tok::Plus, i + 1),
            b'-' => (Tok::Minus, i + 1),
            b'=' => (Tok::Eq, i + 1),
            b'<' if bytes.get(i + 1) == Some(&b'>') => (Tok::Ne, i + 2),
            b'<' if bytes.get(i + 1) == Some(&b'=') => (Tok::Le, i + 2),
            b'<' => (Tok::Lt, i + 1),
            b'>' if bytes.get(i + 1) == Some(&b'=') => (Tok::Ge, i + 2),
            b'>' => (Tok::Gt, i + 1),
            b'#' | b':' => {
                let end = run(i + 1);
                if end == i + 1 {
                    (Tok::Bad(c as char), i + 1)
                } else {
                    let name = src[i..end].to_owned();
                    (if c == b'#' { Tok::NameRef(name) } else { Tok::ValueRef(name) }, end)
                }
            }
            b'0'..=b'9' => {
                let mut end = i;
                while end < bytes.len() && bytes[end].is_ascii_digit() {
                    end += 1;
                }
                (Tok::Int(src[i..end].to_owned()), end)
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = run(i);
                (Tok::Ident(src[i..end].to_owned()), end)
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                (Tok::Bad(ch), i + ch.len_utf8())
            }
        };
        out.push(Token { tok, start, end });
        i = end;
    }
    out.push(Token { tok: Tok::Eof, start: src.len(), end: src.len() });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn splits_every_token_kind() {
        assert_eq!(
            toks("#a.b[12] <> :v_1 AND size(x)>=:y"),
            vec![
                Tok::NameRef("#a".into()),
                Tok::Dot,
                Tok::Ident("b".into()),
                Tok::LBracket,
                Tok::Int("12".into()),
                Tok::RBracket,
                Tok::Ne,
                Tok::ValueRef(":v_1".into()),
                Tok::Ident("AND".into()),
                Tok::Ident("size".into()),
                Tok::LParen,
                Tok::Ident("x".into()),
                Tok::RParen,
                Tok::Ge,
                Tok::ValueRef(":y".into()),
                Tok::Eof,
            ]
        );
        assert_eq!(toks("a<b<=c>d=e,f+g-h"), {
            let id = |s: &str| Tok::Ident(s.into());
            vec![
                id("a"),
                Tok::Lt,
                id("b"),
                Tok::Le,
                id("c"),
                Tok::Gt,
                id("d"),
                Tok::Eq,
                id("e"),
                Tok::Comma,
                id("f"),
                Tok::Plus,
                id("g"),
                Tok::Minus,
                id("h"),
                Tok::Eof,
            ]
        });
        assert_eq!(
            toks("a $ é #"),
            vec![Tok::Ident("a".into()), Tok::Bad('$'), Tok::Bad('é'), Tok::Bad('#'), Tok::Eof]
        );
        let t = tokenize("  ab ");
        assert_eq!((t[0].start, t[0].end, t[1].start), (2, 4, 5));
    }
}
