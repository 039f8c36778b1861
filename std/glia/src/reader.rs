//! The reader: source text to values.
//!
//! `nil`, `true`, `false`, integers (64-bit; a literal out of range is an
//! error), floats, strings with escapes (`\" \\ \n \t \r \0 \uXXXX`),
//! bytes `#bytes "0a ff"` (hex, two digits a byte, spaces between bytes
//! optional), keywords `:k`, symbols, lists `()`, vectors `[]`, maps `{}`,
//! sets `#{}`, comments `;` and `#_form`, quote `'x`. Commas are
//! whitespace.
//!
//! Errors carry the line and column. Input that ends inside a form (an
//! unclosed `(`, `[`, `{`, string or a trailing `'`) is reported with
//! [`ReadError::incomplete`] set, so a REPL can ask for another line.
//!
//! The reader keeps its own stack of open forms instead of recursing, and
//! refuses forms nested deeper than [`MAX_NESTING`]: deeply nested input
//! cannot overflow the host stack, neither while reading nor later, when
//! the value is evaluated, printed or dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::iter::Peekable;
use std::rc::Rc;
use std::str::Chars;

use crate::error::ReadError;
use crate::value::Value;

/// How deeply forms may nest in source text.
pub const MAX_NESTING: usize = 1_000;

/// Reads every form in `src`.
///
/// # Errors
///
/// The first [`ReadError`]; check [`ReadError::incomplete`] to tell
/// unfinished input from bad input.
///
/// # Examples
///
/// ```
/// let forms = ww_glia::read_all("(+ 1 2) [:a \"b\"]").unwrap();
/// assert_eq!(forms.len(), 2);
/// assert_eq!(forms[1].to_string(), "[:a \"b\"]");
/// assert!(ww_glia::read_all("(+ 1").unwrap_err().incomplete);
/// ```
pub fn read_all(src: &str) -> Result<Vec<Value>, ReadError> {
    Reader::new(src).collect()
}

/// The source text of each top-level form of `src`, in order (comments
/// and space between forms left out), so that a REPL can evaluate and
/// show pasted forms one by one.
///
/// # Errors
///
/// As [`read_all`].
///
/// # Examples
///
/// ```
/// let forms = ww_glia::reader::forms("(+ 1 1)\n(+ 2 2) ; two\n").unwrap();
/// assert_eq!(forms, ["(+ 1 1)", "(+ 2 2)"]);
/// ```
pub fn forms(src: &str) -> Result<Vec<&str>, ReadError> {
    let mut reader = Reader::new(src);
    let mut out = Vec::new();
    loop {
        reader.skip_space();
        let start = reader.offset;
        match reader.next_form()? {
            Some(_) => out.push(src.get(start..reader.offset).unwrap_or_default()),
            None => return Ok(out),
        }
    }
}

/// An iterator over the forms of a source text.
pub struct Reader<'a> {
    chars: Peekable<Chars<'a>>,
    /// Bytes of the source consumed so far.
    offset: usize,
    line: usize,
    column: usize,
    failed: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Open {
    List,
    Vector,
    Map,
    Set,
    Quote,
    Discard,
}

impl Open {
    fn closer(self) -> char {
        match self {
            Open::List => ')',
            Open::Vector => ']',
            Open::Map | Open::Set => '}',
            Open::Quote | Open::Discard => ' ',
        }
    }

    fn opener(self) -> &'static str {
        match self {
            Open::List => "(",
            Open::Vector => "[",
            Open::Map => "{",
            Open::Set => "#{",
            Open::Quote => "'",
            Open::Discard => "#_",
        }
    }
}

struct Pending {
    open: Open,
    items: Vec<Value>,
    line: usize,
    column: usize,
}

fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | '(' | ')' | '[' | ']' | '{' | '}' | '"' | ';')
}

impl<'a> Reader<'a> {
    /// A reader over `src`, starting at line 1, column 1.
    pub fn new(src: &'a str) -> Reader<'a> {
        Reader {
            chars: src.chars().peekable(),
            offset: 0,
            line: 1,
            column: 1,
            failed: false,
        }
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        self.offset += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn error(&self, line: usize, column: usize, message: impl Into<String>) -> ReadError {
        ReadError {
            message: message.into(),
            line,
            column,
            incomplete: false,
        }
    }

    fn skip_space(&mut self) {
        while let Some(&c) = self.chars.peek() {
            if c.is_whitespace() || c == ',' {
                self.bump();
            } else if c == ';' {
                while let Some(c) = self.bump() {
                    if c == '\n' {
                        break;
                    }
                }
            } else {
                break;
            }
        }
    }

    /// Reads the next complete form, or `None` at the end of input.
    fn next_form(&mut self) -> Result<Option<Value>, ReadError> {
        let mut stack: Vec<Pending> = Vec::new();
        loop {
            self.skip_space();
            let (line, column) = (self.line, self.column);
            let Some(c) = self.bump() else {
                return match stack.last() {
                    None => Ok(None),
                    Some(p) => Err(ReadError {
                        message: format!(
                            "unexpected end of input: `{}` opened at {}:{} is not closed",
                            p.open.opener(),
                            p.line,
                            p.column
                        ),
                        line: p.line,
                        column: p.column,
                        incomplete: true,
                    }),
                };
            };
            if stack.len() >= MAX_NESTING && matches!(c, '(' | '[' | '{' | '\'' | '#') {
                return Err(self.error(
                    line,
                    column,
                    format!("forms nested deeper than {MAX_NESTING} levels"),
                ));
            }
            let open = |open| Pending {
                open,
                items: Vec::new(),
                line,
                column,
            };
            let value = match c {
                '(' => {
                    stack.push(open(Open::List));
                    continue;
                }
                '[' => {
                    stack.push(open(Open::Vector));
                    continue;
                }
                '{' => {
                    stack.push(open(Open::Map));
                    continue;
                }
                '\'' => {
                    stack.push(open(Open::Quote));
                    continue;
                }
                '#' => match self.chars.peek() {
                    Some('{') => {
                        self.bump();
                        stack.push(open(Open::Set));
                        continue;
                    }
                    Some('_') => {
                        self.bump();
                        stack.push(open(Open::Discard));
                        continue;
                    }
                    Some('b') => self.bytes(line, column)?,
                    _ => {
                        return Err(self.error(
                            line,
                            column,
                            "unsupported `#` syntax (only `#{…}` sets, `#_` discard and \
                             `#bytes \"…\"`)",
                        ))
                    }
                },
                ')' | ']' | '}' => {
                    let Some(top) = stack.pop() else {
                        return Err(self.error(line, column, format!("unexpected `{c}`")));
                    };
                    if top.open.closer() != c {
                        let message = match top.open {
                            Open::Quote | Open::Discard => {
                                format!("unexpected `{c}` after `{}`", top.open.opener())
                            }
                            o => format!(
                                "unexpected `{c}`: `{}` opened at {}:{} needs `{}`",
                                o.opener(),
                                top.line,
                                top.column,
                                o.closer()
                            ),
                        };
                        return Err(self.error(line, column, message));
                    }
                    self.close(top)?
                }
                '"' => self.string(line, column)?,
                '`' | '~' | '@' | '^' | '\\' => {
                    return Err(self.error(line, column, format!("`{c}` is not supported")))
                }
                c => {
                    let mut token = String::from(c);
                    while let Some(&c) = self.chars.peek() {
                        if is_delimiter(c) {
                            break;
                        }
                        token.push(c);
                        self.bump();
                    }
                    self.atom(&token, line, column)?
                }
            };
            if let Some(done) = Self::emit(&mut stack, value) {
                return Ok(Some(done));
            }
        }
    }

    /// Gives a finished value to the innermost open form; returns it when
    /// it is a complete top-level form.
    fn emit(stack: &mut Vec<Pending>, mut value: Value) -> Option<Value> {
        loop {
            match stack.last_mut() {
                None => return Some(value),
                Some(p) if p.open == Open::Quote => {
                    stack.pop();
                    value = Value::list(vec![Value::symbol("quote"), value]);
                }
                Some(p) if p.open == Open::Discard => {
                    stack.pop();
                    return None;
                }
                Some(p) => {
                    p.items.push(value);
                    return None;
                }
            }
        }
    }

    fn close(&self, p: Pending) -> Result<Value, ReadError> {
        Ok(match p.open {
            Open::List => Value::list(p.items),
            Open::Vector => Value::vector(p.items),
            Open::Map => {
                if !p.items.len().is_multiple_of(2) {
                    return Err(self.error(
                        p.line,
                        p.column,
                        "a map literal needs an even number of forms (key value …)",
                    ));
                }
                let mut map = BTreeMap::new();
                let mut items = p.items.into_iter();
                while let (Some(k), Some(v)) = (items.next(), items.next()) {
                    if map.contains_key(&k) {
                        return Err(self.error(
                            p.line,
                            p.column,
                            format!("duplicate key {k} in a map literal"),
                        ));
                    }
                    map.insert(k, v);
                }
                Value::Map(Rc::new(map))
            }
            Open::Set => {
                let mut set = BTreeSet::new();
                for item in p.items {
                    if set.contains(&item) {
                        return Err(self.error(
                            p.line,
                            p.column,
                            format!("duplicate element {item} in a set literal"),
                        ));
                    }
                    set.insert(item);
                }
                Value::Set(Rc::new(set))
            }
            Open::Quote | Open::Discard => unreachable!("closed by emit"),
        })
    }

    /// `#bytes "0a ff"` (the `#` already read): hex digits in pairs, with
    /// whitespace between bytes allowed, as the printer writes them.
    fn bytes(&mut self, line: usize, column: usize) -> Result<Value, ReadError> {
        let mut tag = String::new();
        while let Some(&c) = self.chars.peek() {
            if is_delimiter(c) {
                break;
            }
            tag.push(c);
            self.bump();
        }
        if tag != "bytes" {
            return Err(self.error(
                line,
                column,
                format!("unknown tag `#{tag}` (the one tag is `#bytes \"0a ff\"`)"),
            ));
        }
        self.skip_space();
        let (sl, sc) = (self.line, self.column);
        match self.bump() {
            Some('"') => {}
            None => {
                return Err(ReadError {
                    message: "unexpected end of input: `#bytes` needs a string of hex digits"
                        .into(),
                    line,
                    column,
                    incomplete: true,
                })
            }
            Some(_) => {
                return Err(self.error(
                    sl,
                    sc,
                    "`#bytes` takes a string of hex digits, e.g. #bytes \"0a ff\"",
                ))
            }
        }
        let text = self.string_text(sl, sc)?;
        hex_bytes(&text)
            .map(Value::bytes)
            .map_err(|why| self.error(sl, sc, format!("bad `#bytes`: {why}")))
    }

    fn string(&mut self, line: usize, column: usize) -> Result<Value, ReadError> {
        self.string_text(line, column).map(Value::str)
    }

    /// The text of a string literal whose `"` was read at `line:column`.
    fn string_text(&mut self, line: usize, column: usize) -> Result<String, ReadError> {
        let mut s = String::new();
        loop {
            let (el, ec) = (self.line, self.column);
            let Some(c) = self.bump() else {
                return Err(ReadError {
                    message: format!(
                        "unexpected end of input: string opened at {line}:{column} is not closed"
                    ),
                    line,
                    column,
                    incomplete: true,
                });
            };
            match c {
                '"' => return Ok(s),
                '\\' => {
                    let Some(e) = self.bump() else { continue };
                    s.push(match e {
                        '"' => '"',
                        '\\' => '\\',
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '0' => '\0',
                        'u' => {
                            let mut hex = String::new();
                            for _ in 0..4 {
                                match self.chars.peek() {
                                    Some(h) if h.is_ascii_hexdigit() => {
                                        hex.push(*h);
                                        self.bump();
                                    }
                                    _ => break,
                                }
                            }
                            let code = u32::from_str_radix(&hex, 16)
                                .ok()
                                .filter(|_| hex.len() == 4);
                            match code.and_then(char::from_u32) {
                                Some(ch) => ch,
                                None => {
                                    return Err(self.error(
                                        el,
                                        ec,
                                        "bad `\\u` escape: needs four hex digits of a character",
                                    ))
                                }
                            }
                        }
                        other => {
                            return Err(self.error(
                                el,
                                ec,
                                format!("unknown escape `\\{other}` in a string"),
                            ))
                        }
                    });
                }
                c => s.push(c),
            }
        }
    }

    fn atom(&self, token: &str, line: usize, column: usize) -> Result<Value, ReadError> {
        match token {
            "nil" => return Ok(Value::Nil),
            "true" => return Ok(Value::Bool(true)),
            "false" => return Ok(Value::Bool(false)),
            _ => {}
        }
        if let Some(name) = token.strip_prefix(':') {
            if name.is_empty() || name.starts_with(':') {
                return Err(self.error(line, column, format!("bad keyword `{token}`")));
            }
            return Ok(Value::keyword(name));
        }
        let mut chars = token.chars();
        let first = chars.next().unwrap_or(' ');
        let second = chars.next();
        let numeric = first.is_ascii_digit()
            || (matches!(first, '+' | '-') && second.is_some_and(|c| c.is_ascii_digit()));
        if !numeric {
            return Ok(Value::symbol(token));
        }
        let digits = token.strip_prefix('+').unwrap_or(token);
        if digits[1..].chars().all(|c| c.is_ascii_digit()) {
            return digits.parse::<i64>().map(Value::Int).map_err(|_| {
                self.error(
                    line,
                    column,
                    format!("integer `{token}` is out of range (64-bit)"),
                )
            });
        }
        let float_like = digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'));
        match digits.parse::<f64>() {
            Ok(f) if float_like => Ok(Value::Float(f)),
            _ => Err(self.error(line, column, format!("invalid number `{token}`"))),
        }
    }
}

/// The bytes written as hex digits in `text`, two a byte; whitespace may
/// separate bytes.
///
/// # Errors
///
/// What is wrong: a character that is not a hex digit, or an odd digit
/// count within a group.
pub fn hex_bytes(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 2);
    for group in text.split_whitespace() {
        if let Some(bad) = group.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(format!("`{bad}` is not a hex digit (0-9, a-f)"));
        }
        if !group.len().is_multiple_of(2) {
            return Err(format!(
                "`{group}` has an odd number of hex digits (two make a byte)"
            ));
        }
        for pair in group.as_bytes().chunks(2) {
            let digits = std::str::from_utf8(pair).map_err(|e| e.to_string())?;
            out.push(u8::from_str_radix(digits, 16).map_err(|e| e.to_string())?);
        }
    }
    Ok(out)
}

impl Iterator for Reader<'_> {
    type Item = Result<Value, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let result = self.next_form().transpose();
        if matches!(result, Some(Err(_))) {
            self.failed = true;
        }
        result
    }
}

#[cfg(test)]
mod tests;
