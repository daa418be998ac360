//! Names for `--kernel-iptables-chain`: the chain the daemon creates for its kernel
//! forwarding rules (see `kernel::iptables`). Checked while reading the configuration,
//! so a bad name stops the start before anything is installed.

/// Longest chain name iptables accepts (`XT_EXTENSION_MAXNAMELEN` minus the NUL).
const MAX_CHAIN_LEN: usize = 28;

/// Rejects names iptables would refuse or misread (options, built-in chains, targets).
pub fn check_chain_name(name: &str) -> Result<(), String> {
    const RESERVED: &[&str] = &[
        "INPUT",
        "OUTPUT",
        "FORWARD",
        "PREROUTING",
        "POSTROUTING",
        "ACCEPT",
        "DROP",
        "RETURN",
        "QUEUE",
        "RTPENGINE",
    ];
    if name.is_empty() {
        return Err("empty chain name".into());
    }
    if name.len() > MAX_CHAIN_LEN {
        return Err(format!(
            "chain name '{name}' is longer than {MAX_CHAIN_LEN} characters"
        ));
    }
    if name.starts_with('-') || name.starts_with('!') {
        return Err(format!("chain name '{name}' starts with '{}'", &name[..1]));
    }
    if !name.chars().all(|c| c.is_ascii_graphic()) {
        return Err(format!(
            "chain name '{name}' has spaces or non-ASCII characters"
        ));
    }
    if RESERVED.contains(&name) {
        return Err(format!("chain name '{name}' is a built-in chain or target"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_names() {
        assert!(check_chain_name("rtpengine").is_ok());
        assert!(check_chain_name("rtpe-rs_0").is_ok());
        for bad in [
            "",
            "-j",
            "!x",
            "two words",
            "INPUT",
            "RTPENGINE",
            "ACCEPT",
            "a234567890123456789012345678x",
            "ünï",
        ] {
            assert!(check_chain_name(bad).is_err(), "{bad:?} accepted");
        }
        assert!(check_chain_name(&"c".repeat(28)).is_ok());
    }
}
