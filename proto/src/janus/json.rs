//! Reading requests as 10.5's JSON reader does, and writing replies with
//! their members in the order 10.5 adds them.

use serde_json::Value;

/// A JSON value to send; objects keep the order of their members.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    Str(String),
    Int(i64),
    Bool(bool),
    Arr(Vec<Out>),
    Obj(Obj),
}

/// An object under construction, members in insertion order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Obj(pub Vec<(String, Out)>);

impl Obj {
    pub fn new() -> Obj {
        Obj(Vec::new())
    }

    pub fn set(&mut self, k: &str, v: impl Into<Out>) {
        self.0.push((k.to_owned(), v.into()));
    }

    pub fn with(mut self, k: &str, v: impl Into<Out>) -> Obj {
        self.set(k, v);
        self
    }

    pub fn to_json(&self) -> String {
        let mut s = String::new();
        Out::Obj(self.clone()).write(&mut s);
        s
    }
}

impl From<&str> for Out {
    fn from(s: &str) -> Out {
        Out::Str(s.to_owned())
    }
}
impl From<String> for Out {
    fn from(s: String) -> Out {
        Out::Str(s)
    }
}
impl From<u64> for Out {
    // 10.5 writes its ids as signed 64-bit integers.
    fn from(u: u64) -> Out {
        Out::Int(u as i64)
    }
}
impl From<i64> for Out {
    fn from(i: i64) -> Out {
        Out::Int(i)
    }
}
impl From<bool> for Out {
    fn from(b: bool) -> Out {
        Out::Bool(b)
    }
}
impl From<Obj> for Out {
    fn from(o: Obj) -> Out {
        Out::Obj(o)
    }
}
impl From<Vec<Out>> for Out {
    fn from(v: Vec<Out>) -> Out {
        Out::Arr(v)
    }
}

impl Out {
    fn write(&self, s: &mut String) {
        match self {
            Out::Str(t) => s.push_str(&Value::String(t.clone()).to_string()),
            Out::Int(i) => s.push_str(&i.to_string()),
            Out::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
            Out::Arr(v) => {
                s.push('[');
                for (i, e) in v.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    e.write(s);
                }
                s.push(']');
            }
            Out::Obj(o) => {
                s.push('{');
                for (i, (k, v)) in o.0.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    s.push_str(&Value::String(k.clone()).to_string());
                    s.push(':');
                    v.write(s);
                }
                s.push('}');
            }
        }
    }
}

/// A member's string, if it is one (10.5's `json_reader_get_string_value`).
pub fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// 10.5's reading of an id: an integer (a float or boolean as the
/// integer it converts to), or a string of decimal digits; 0 otherwise.
pub fn id_of(v: &Value, key: &str) -> u64 {
    match v.get(key) {
        Some(Value::Number(n)) => n
            .as_i64()
            .map(|i| i as u64)
            .or(n.as_u64())
            .or(n.as_f64().map(|f| f as i64 as u64))
            .unwrap_or(0),
        Some(Value::Bool(b)) => u64::from(*b),
        Some(Value::String(s)) => strtoull(s),
        _ => 0,
    }
}

/// C's `strtoull(s, &end, 10)` where anything after the number makes it
/// 0: leading white space, a sign (a minus negates), digits; too large
/// is `u64::MAX`.
fn strtoull(s: &str) -> u64 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    match digits.parse::<u64>() {
        Ok(n) if neg => n.wrapping_neg(),
        Ok(n) => n,
        Err(_) => u64::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_keep_their_order_and_strings_are_escaped() {
        let o = Obj::new().with("z", "a\"b\r\n").with("a", 5u64).with(
            "m",
            Obj::new().with("y", true).with("b", vec![Out::Int(-1)]),
        );
        assert_eq!(
            o.to_json(),
            r#"{"z":"a\"b\r\n","a":5,"m":{"y":true,"b":[-1]}}"#
        );
    }

    #[test]
    fn ids_read_as_10_5_reads_them() {
        let v: Value =
            serde_json::from_str(r#"{"a":12,"b":"34","c":"3x","d":"","e":null,"f":1.9}"#).unwrap();
        assert_eq!(id_of(&v, "a"), 12);
        assert_eq!(id_of(&v, "b"), 34);
        assert_eq!(id_of(&v, "c"), 0);
        assert_eq!(id_of(&v, "d"), 0);
        assert_eq!(id_of(&v, "e"), 0);
        assert_eq!(id_of(&v, "f"), 1);
        assert_eq!(id_of(&v, "nope"), 0);
        let v: Value =
            serde_json::from_str(r#"{"a":"-1","b":" +7","c":"99999999999999999999","d":"-"}"#)
                .unwrap();
        assert_eq!(id_of(&v, "a"), u64::MAX);
        assert_eq!(id_of(&v, "b"), 7);
        assert_eq!(id_of(&v, "c"), u64::MAX);
        assert_eq!(id_of(&v, "d"), 0);
    }
}
