//! Minimal INI reader for rtpengine config files (`[section]`, `key = value`, `#`/`;`
//! comments).

use super::ConfigError;

/// The `key = value` entries of one section, in file order.
pub fn section(text: &str, wanted: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let mut current: Option<&str> = None;
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[') {
            let name = name
                .strip_suffix(']')
                .ok_or_else(|| ConfigError::Ini(n + 1, "unterminated section header".into()))?;
            current = Some(name.trim());
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .ok_or_else(|| ConfigError::Ini(n + 1, format!("expected key = value: {line}")))?;
        if current == Some(wanted) {
            out.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_section() {
        let t = "# c\n[rtpengine]\ntable = 0\ninterface = a;b\n[other]\ntable=1\n";
        let s = section(t, "rtpengine").unwrap();
        assert_eq!(
            s,
            vec![
                ("table".into(), "0".into()),
                ("interface".into(), "a;b".into())
            ]
        );
        assert_eq!(
            section(t, "other").unwrap(),
            vec![("table".into(), "1".into())]
        );
        assert!(section("[x\n", "x").is_err());
        assert!(section("[x]\njunk\n", "x").is_err());
    }
}
