//! Parsing JSON lines without building a document: serde visitors that widen the inferred type
//! in place (first pass) or append straight to Arrow builders (second pass). No per-value
//! allocation but for the data itself; keys are borrowed from the input where possible.
//!
//! Errors inside a visitor are carried out through a side slot ([`Failure`]), because serde's
//! error type only holds text; the JSON path is built on the way out, only when something fails.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::infer::Ty;

/// Why a line could not be taken in.
#[derive(Debug, Clone, PartialEq)]
pub enum LineError {
    Syntax {
        column: u64,
        message: String,
    },
    NotAnObject {
        found: &'static str,
    },
    Conflict {
        path: String,
        found: String,
        expected: String,
        /// 1-based byte column where the conflicting value starts.
        column: Option<u64>,
    },
    IntegerOutOfRange {
        path: String,
        value: String,
    },
    /// An integer beyond ±2^53 in a column that also holds floats.
    InexactFloat {
        path: String,
        value: String,
    },
    DuplicateKey {
        path: String,
    },
    /// A key the first pass did not see (the input changed between the passes).
    UnknownKey {
        path: String,
    },
}

/// The context of one line's parse: the line itself, what failed inside a visitor, and how many
/// numbers the visitors have met so far (to find a number's literal in the text when needed).
pub struct Slot<'t> {
    failure: RefCell<Failure>,
    line: &'t str,
    numbers: Cell<usize>,
}

impl<'t> Slot<'t> {
    pub fn new(line: &'t str) -> Slot<'t> {
        Slot {
            failure: RefCell::new(Failure::default()),
            line,
            numbers: Cell::new(0),
        }
    }

    /// Counts one number; returns its 0-based position among the line's numbers.
    fn next_number(&self) -> usize {
        let ordinal = self.numbers.get();
        self.numbers.set(ordinal + 1);
        ordinal
    }

    /// Counts the numbers of a value passed over as text.
    fn skip_numbers(&self, text: &str) {
        if text.bytes().any(|b| b.is_ascii_digit()) {
            self.numbers
                .set(self.numbers.get() + count_number_literals(text));
        }
    }

    /// serde_json hands an integer literal beyond u64 (or below i64::MIN) to `visit_f64`.
    /// Such a float is refused when its literal has no fraction and no exponent.
    fn check_float<E: de::Error>(&self, value: f64, ordinal: usize) -> Result<(), E> {
        if (-9.2e18..1.8e19).contains(&value) {
            return Ok(());
        }
        match nth_number_literal(self.line, ordinal) {
            Some(literal) if !literal.contains(['.', 'e', 'E']) => Err(Failure::set(
                self,
                FailureKind::IntegerOutOfRange {
                    value: literal.to_string(),
                },
            )),
            _ => Ok(()),
        }
    }
}

/// Passes over one value without looking at it, counting the numbers it holds.
struct Skip<'a>(&'a Slot<'a>);

impl<'de> DeserializeSeed<'de> for Skip<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let raw = <&'de serde_json::value::RawValue>::deserialize(deserializer)?;
        self.0.skip_numbers(raw.get());
        Ok(())
    }
}

/// The `n`-th (0-based) number literal of a JSON text, skipping strings.
fn nth_number_literal(text: &str, n: usize) -> Option<&str> {
    number_literals(text).nth(n)
}

fn count_number_literals(text: &str) -> usize {
    number_literals(text).count()
}

/// The number literals of a JSON text, in order, skipping strings.
fn number_literals(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            match bytes[i] {
                b'"' => {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
                b'-' | b'0'..=b'9' => {
                    let start = i;
                    while i < bytes.len()
                        && matches!(bytes[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                    {
                        i += 1;
                    }
                    return Some(&text[start..i]);
                }
                _ => i += 1,
            }
        }
        None
    })
}

/// What failed inside a visitor, with the path segments pushed while unwinding.
#[derive(Default)]
pub struct Failure {
    kind: Option<FailureKind>,
    /// Innermost segment first.
    segments: Vec<String>,
}

enum FailureKind {
    Conflict { found: String, expected: String },
    IntegerOutOfRange { value: String },
    InexactFloat { value: String },
    DuplicateKey,
    UnknownKey,
}

impl Failure {
    fn set<E: de::Error>(slot: &Slot, kind: FailureKind) -> E {
        slot.failure.borrow_mut().kind = Some(kind);
        E::custom("hf-relay: see failure slot")
    }

    fn push(slot: &Slot, segment: impl Into<String>) {
        let mut failure = slot.failure.borrow_mut();
        if failure.kind.is_some() {
            failure.segments.push(segment.into());
        }
    }

    fn into_error(self) -> Option<LineError> {
        let mut path = String::new();
        for segment in self.segments.iter().rev() {
            if segment == "[]" {
                path.push_str("[]");
            } else {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(segment);
            }
        }
        if path.is_empty() {
            path = "<root>".into();
        }
        Some(match self.kind? {
            FailureKind::Conflict { found, expected } => LineError::Conflict {
                path,
                found,
                expected,
                column: None,
            },
            FailureKind::IntegerOutOfRange { value } => {
                LineError::IntegerOutOfRange { path, value }
            }
            FailureKind::InexactFloat { value } => LineError::InexactFloat { path, value },
            FailureKind::DuplicateKey => LineError::DuplicateKey { path },
            FailureKind::UnknownKey => LineError::UnknownKey { path },
        })
    }
}

/// Runs `seed` over one line that must hold a JSON object.
/// `slot` must be the one the seed reports into.
pub fn parse_line_with<'de, S>(line: &'de str, seed: S, slot: &Slot) -> Result<S::Value, LineError>
where
    S: DeserializeSeed<'de>,
{
    let first = line.bytes().find(|b| !b.is_ascii_whitespace());
    if first != Some(b'{') {
        // Not an object: report a syntax error first if there is one.
        let mut deserializer = serde_json::Deserializer::from_str(line);
        if let Err(error) =
            IgnoredAny::deserialize(&mut deserializer).and_then(|_| deserializer.end())
        {
            return Err(syntax(&error));
        }
        let found = match first {
            Some(b'[') => "an array",
            Some(b'"') => "a string",
            Some(b'n') => "null",
            Some(b't' | b'f') => "a boolean",
            _ => "a number",
        };
        return Err(LineError::NotAnObject { found });
    }
    let mut deserializer = serde_json::Deserializer::from_str(line);
    let result = seed.deserialize(&mut deserializer).and_then(|value| {
        deserializer.end()?;
        Ok(value)
    });
    match result {
        Ok(value) => Ok(value),
        Err(error) => match std::mem::take(&mut *slot.failure.borrow_mut()).into_error() {
            Some(LineError::Conflict {
                path,
                found,
                expected,
                ..
            }) => Err(LineError::Conflict {
                path,
                found,
                expected,
                column: value_start(line, error.column()),
            }),
            Some(failure) => Err(failure),
            None => Err(syntax(&error)),
        },
    }
}

use serde::Deserialize as _;

/// Where the value serde_json stopped at begins (1-based byte column). serde_json places a
/// visitor's error after a scalar it read (`"xy"`, `12`, `true`) but on the `{` or `[` of a
/// container it was about to enter; either way, the value's first byte.
fn value_start(line: &str, column: usize) -> Option<u64> {
    let bytes = line.as_bytes();
    let last = column.checked_sub(1).filter(|&i| i < bytes.len())?;
    let start = match bytes[last] {
        b'{' | b'[' => last,
        b'"' => {
            // The opening quote: the previous one not escaped by an odd run of backslashes.
            let mut i = last;
            loop {
                i = bytes[..i].iter().rposition(|&b| b == b'"')?;
                let backslashes = bytes[..i].iter().rev().take_while(|&&b| b == b'\\').count();
                if backslashes % 2 == 0 {
                    break i;
                }
            }
        }
        _ => {
            let run = bytes[..=last]
                .iter()
                .rev()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
                .count();
            last + 1 - run
        }
    };
    Some(start as u64 + 1)
}

fn syntax(error: &serde_json::Error) -> LineError {
    let text = error.to_string();
    let message = match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    };
    LineError::Syntax {
        column: error.column() as u64,
        message,
    }
}

/// A map key, borrowed from the input unless it holds escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

// ---------------------------------------------------------------------------------------------
// First pass: widen the inferred type in place.

/// Widens `acc` by one value.
pub struct TypeSeed<'a> {
    pub acc: &'a mut Ty,
    pub slot: &'a Slot<'a>,
    pub conflicts_as_json: bool,
}

impl TypeSeed<'_> {
    /// A scalar of type `new` met where `acc` was seen.
    fn scalar<E: de::Error>(self, new: Ty) -> Result<(), E> {
        let widened = match (&*self.acc, &new) {
            (Ty::Null, _) => new,
            (Ty::Json, _) => return Ok(()),
            (a, b) if a == b => return Ok(()),
            (Ty::Int, Ty::Float) => Ty::Float,
            (Ty::Float, Ty::Int) => return Ok(()),
            (a, b) => {
                let (expected, found) = (a.describe(), b.describe());
                return self.conflict(expected, found);
            }
        };
        *self.acc = widened;
        Ok(())
    }

    /// What the column holds, when that is neither null nor of the kind `fits` accepts (a
    /// list arriving where strings were seen, say): the `expected` side of a conflict.
    fn held_unless(&self, fits: impl Fn(&Ty) -> bool) -> Option<String> {
        match &*self.acc {
            Ty::Null => None,
            held if fits(held) => None,
            held => Some(held.describe()),
        }
    }

    fn conflict<E: de::Error>(self, expected: String, found: String) -> Result<(), E> {
        if self.conflicts_as_json {
            *self.acc = Ty::Json;
            Ok(())
        } else {
            Err(Failure::set(
                self.slot,
                FailureKind::Conflict { found, expected },
            ))
        }
    }
}

impl<'de> DeserializeSeed<'de> for TypeSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        if *self.acc == Ty::Json {
            Skip(self.slot).deserialize(deserializer)?;
            return Ok(());
        }
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TypeSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar(Ty::Bool)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.slot.next_number();
        self.scalar(Ty::Int)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.slot.next_number();
        if v > i64::MAX as u64 {
            return Err(Failure::set(
                self.slot,
                FailureKind::IntegerOutOfRange {
                    value: v.to_string(),
                },
            ));
        }
        self.scalar(Ty::Int)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        let ordinal = self.slot.next_number();
        self.slot.check_float(v, ordinal)?;
        self.scalar(Ty::Float)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.scalar(Ty::Str)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if let Some(expected) = self.held_unless(|ty| matches!(ty, Ty::List(_))) {
            let slot = self.slot;
            self.conflict::<A::Error>(expected, "list".into())?;
            while seq.next_element_seed(Skip(slot))?.is_some() {}
            return Ok(());
        }
        if *self.acc == Ty::Null {
            *self.acc = Ty::List(Box::new(Ty::Null));
        }
        let Ty::List(item) = self.acc else {
            unreachable!()
        };
        loop {
            let seed = TypeSeed {
                acc: item,
                slot: self.slot,
                conflicts_as_json: self.conflicts_as_json,
            };
            match seq.next_element_seed(seed) {
                Ok(Some(())) => {}
                Ok(None) => return Ok(()),
                Err(error) => {
                    Failure::push(self.slot, "[]");
                    return Err(error);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if let Some(expected) = self.held_unless(|ty| matches!(ty, Ty::Struct(_))) {
            let slot = self.slot;
            self.conflict::<A::Error>(expected, "object".into())?;
            while map.next_key::<IgnoredAny>()?.is_some() {
                map.next_value_seed(Skip(slot))?;
            }
            return Ok(());
        }
        if *self.acc == Ty::Null {
            *self.acc = Ty::Struct(Default::default());
        }
        let Ty::Struct(fields) = self.acc else {
            unreachable!()
        };
        let mut seen: Vec<usize> = Vec::new();
        while let Some(Key(key)) = map.next_key::<Key>()? {
            let index = match fields.get_index_of(key.as_ref()) {
                Some(index) => index,
                None => fields.insert_full(key.to_string(), Ty::Null).0,
            };
            if seen.contains(&index) {
                let error = Failure::set(self.slot, FailureKind::DuplicateKey);
                Failure::push(self.slot, key.as_ref());
                return Err(error);
            }
            seen.push(index);
            let (_, acc) = fields.get_index_mut(index).expect("just found");
            let seed = TypeSeed {
                acc,
                slot: self.slot,
                conflicts_as_json: self.conflicts_as_json,
            };
            if let Err(error) = map.next_value_seed(seed) {
                Failure::push(self.slot, key.as_ref());
                return Err(error);
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Second pass: append straight to the column builders.

use super::decode::ColumnBuilder;

/// Appends one value to a column; yields the value's size estimate.
pub struct ColumnSeed<'a> {
    pub column: &'a mut ColumnBuilder,
    pub slot: &'a Slot<'a>,
}

impl ColumnSeed<'_> {
    fn append_int<E: de::Error>(self, v: i64) -> Result<u64, E> {
        match self.column {
            ColumnBuilder::Int(b) => b.append_value(v),
            // pyarrow refuses to widen an integer that float64 cannot hold exactly; so do we.
            ColumnBuilder::Float(_) if v.unsigned_abs() > 1 << 53 => {
                return Err(Failure::set(
                    self.slot,
                    FailureKind::InexactFloat {
                        value: v.to_string(),
                    },
                ));
            }
            ColumnBuilder::Float(b) => b.append_value(v as f64),
            _ => return Err(self.mismatch("int64")),
        }
        Ok(8)
    }

    fn mismatch<E: de::Error>(&self, found: &str) -> E {
        Failure::set(
            self.slot,
            FailureKind::Conflict {
                found: found.to_string(),
                expected: self.column.describe().to_string(),
            },
        )
    }
}

/// A value read as its raw JSON text, its numbers counted for the line's ordinals; `None` for
/// `null`.
fn raw_text<'de, D: de::Deserializer<'de>>(
    deserializer: D,
    slot: &Slot<'_>,
) -> Result<Option<&'de str>, D::Error> {
    let text = <&serde_json::value::RawValue>::deserialize(deserializer)?.get();
    slot.skip_numbers(text);
    Ok((text != "null").then_some(text))
}

impl<'de> DeserializeSeed<'de> for ColumnSeed<'_> {
    type Value = u64;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<u64, D::Error> {
        if let ColumnBuilder::Json(builder) = self.column {
            // Values of a conflicted column are kept as their JSON text, exactly as written.
            let Some(text) = raw_text(deserializer, self.slot)? else {
                builder.append_null();
                return Ok(4);
            };
            builder.append_value(text);
            return Ok(text.len() as u64 + 4);
        }
        if let ColumnBuilder::EmptyObject(builder) = self.column {
            let Some(text) = raw_text(deserializer, self.slot)? else {
                builder.append_null();
                return Ok(4);
            };
            let inner = text.strip_prefix('{').and_then(|t| t.strip_suffix('}'));
            if !inner.is_some_and(|inner| inner.bytes().all(|b| b.is_ascii_whitespace())) {
                let found = if text.starts_with('{') {
                    "object with keys"
                } else {
                    "a value"
                };
                return Err(self.mismatch(found));
            }
            builder.append_value(text);
            return Ok(text.len() as u64 + 4);
        }
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ColumnSeed<'_> {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<u64, E> {
        Ok(self.column.append_null())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<u64, E> {
        match self.column {
            ColumnBuilder::Bool(b) => {
                b.append_value(v);
                Ok(1)
            }
            _ => Err(self.mismatch("bool")),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        self.slot.next_number();
        self.append_int(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        self.slot.next_number();
        match i64::try_from(v) {
            Ok(v) => self.append_int(v),
            Err(_) => Err(Failure::set(
                self.slot,
                FailureKind::IntegerOutOfRange {
                    value: v.to_string(),
                },
            )),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        let ordinal = self.slot.next_number();
        self.slot.check_float(v, ordinal)?;
        match self.column {
            ColumnBuilder::Float(b) => {
                b.append_value(v);
                Ok(8)
            }
            _ => Err(self.mismatch("float64")),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        match self.column {
            ColumnBuilder::Str(b) => {
                b.append_value(v);
                Ok(v.len() as u64 + 4)
            }
            _ => Err(self.mismatch("string")),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        let ColumnBuilder::List {
            offsets,
            validity,
            items,
            ..
        } = self.column
        else {
            return Err(self.mismatch("list"));
        };
        let mut size = 4;
        let mut count = 0i32;
        loop {
            match seq.next_element_seed(ColumnSeed {
                column: items,
                slot: self.slot,
            }) {
                Ok(Some(item)) => {
                    size += item;
                    count += 1;
                }
                Ok(None) => break,
                Err(error) => {
                    Failure::push(self.slot, "[]");
                    return Err(error);
                }
            }
        }
        let last = *offsets.last().expect("offsets start with 0");
        offsets.push(last + count);
        validity.append_non_null();
        Ok(size)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<u64, A::Error> {
        let ColumnBuilder::Struct { .. } = self.column else {
            return Err(self.mismatch("object"));
        };
        let size = append_object(self.column, map, self.slot)?;
        if let ColumnBuilder::Struct { validity, .. } = self.column {
            validity.append_non_null();
        }
        Ok(size)
    }
}

/// Appends the fields of one object to a struct builder (missing keys become nulls).
pub fn append_object<'de, A: MapAccess<'de>>(
    column: &mut ColumnBuilder,
    mut map: A,
    slot: &Slot,
) -> Result<u64, A::Error> {
    let ColumnBuilder::Struct {
        fields,
        index,
        children,
        stamps,
        generation,
        ..
    } = column
    else {
        unreachable!("append_object on a struct builder")
    };
    *generation = generation.wrapping_add(1);
    if *generation == 0 {
        stamps.iter_mut().for_each(|s| *s = 0);
        *generation = 1;
    }
    let mut size = 0;
    // Records usually spell their keys in the schema's order: try the field after the last
    // one before hashing the key.
    let mut expected = 0;
    while let Some(Key(key)) = map.next_key::<Key>()? {
        let predicted = fields
            .get(expected)
            .is_some_and(|field| field.name() == key.as_ref());
        let found = if predicted {
            Some(expected)
        } else {
            index.get(key.as_ref()).copied()
        };
        let Some(i) = found else {
            let error = Failure::set(slot, FailureKind::UnknownKey);
            Failure::push(slot, key.as_ref());
            return Err(error);
        };
        if stamps[i] == *generation {
            let error = Failure::set(slot, FailureKind::DuplicateKey);
            Failure::push(slot, key.as_ref());
            return Err(error);
        }
        stamps[i] = *generation;
        expected = i + 1;
        match map.next_value_seed(ColumnSeed {
            column: &mut children[i],
            slot,
        }) {
            Ok(n) => size += n,
            Err(error) => {
                Failure::push(slot, key.as_ref());
                return Err(error);
            }
        }
    }
    for (child, stamp) in children.iter_mut().zip(stamps.iter()) {
        if *stamp != *generation {
            size += child.append_null();
        }
    }
    Ok(size)
}

/// The root object of a line, appended to the record builder.
pub struct RowSeed<'a> {
    pub root: &'a mut ColumnBuilder,
    pub slot: &'a Slot<'a>,
}

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
    type Value = u64;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<u64, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_> {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<u64, A::Error> {
        append_object(self.root, map, self.slot)
    }
}
