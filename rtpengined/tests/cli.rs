//! Command line behaviour of the binary.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rtpengined"))
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn version_and_help() {
    let (code, out) = run(&["-v"]);
    assert_eq!(code, 0);
    assert!(out.contains("rtpengined"));
    let (code, out) = run(&["--help"]);
    assert_eq!(code, 0);
    for opt in [
        "--listen-ng",
        "--interface",
        "--table",
        "--max-sessions",
        "--recording-method",
        "--mqtt-host",
        "--janus-secret",
    ] {
        assert!(out.contains(opt), "help lacks {opt}");
    }
}

#[test]
fn invalid_combinations_fail_clearly() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--config-file=none", "--listen-ng=127.0.0.1:2223"],
            "interface",
        ),
        (
            &["--config-file=none", "--interface=127.0.0.1"],
            "listen-ng",
        ),
        (
            &[
                "--config-file=none",
                "-i",
                "127.0.0.1",
                "-n",
                "2223",
                "-m",
                "5000",
                "-M",
                "4000",
            ],
            "port range",
        ),
        (
            &[
                "--config-file=none",
                "-i",
                "127.0.0.1",
                "-n",
                "2223",
                "--no-fallback",
            ],
            "kernel",
        ),
        (
            &["--config-file=none", "-i", "ext:/127.0.0.1", "-n", "2223"],
            "round-robin",
        ),
        (&["--config-file=none", "--bogus-option"], "bogus"),
        (
            &[
                "--config-file=/nonexistent/rtpengine.conf",
                "-i",
                "127.0.0.1",
                "-n",
                "2223",
            ],
            "nonexistent",
        ),
        (
            &["--config-file=none", "-i", "127.0.0.1", "-n", "notaport"],
            "notaport",
        ),
    ];
    for (args, needle) in cases {
        let (code, out) = run(args);
        assert_ne!(code, 0, "{args:?} should fail");
        assert!(out.contains(needle), "{args:?}: {out}");
    }
}

#[test]
fn unimplemented_option_is_warned_and_sigterm_exits_cleanly() {
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("rtpengined-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pidfile = dir.join("pid");
    let child = Command::new(env!("CARGO_BIN_EXE_rtpengined"))
        .args([
            "--config-file=none",
            "-f",
            "-E",
            "-i",
            "127.0.0.1",
            &format!("--listen-ng=127.0.0.1:{port}"),
            "--port-min=34900",
            "--port-max=34999",
            "--mqtt-host=127.0.0.1",
            "--redis-num-threads=4",
            &format!("--pidfile={}", pidfile.display()),
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !pidfile.exists() {
        assert!(std::time::Instant::now() < deadline, "no pidfile");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(pid as u32, child.id());
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("--mqtt-host") && log.contains("--redis-num-threads"),
        "{log}"
    );
    assert!(log.contains("not implemented"), "{log}");
    assert!(!pidfile.exists(), "pidfile removed on exit");
}

#[test]
fn kernel_iptables_chain_and_state_file_options() {
    let dir = std::env::temp_dir().join(format!("rtpengined-cli-ipt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("r.conf");
    // Invalid chain names are refused, on the command line and in the config file.
    let base = ["--config-file=none", "-i", "127.0.0.1", "-n", "2223"];
    for bad in ["INPUT", "-j", "a b", "x234567890123456789012345678901"] {
        let opt = format!("--kernel-iptables-chain={bad}");
        let mut args = base.to_vec();
        args.push(&opt);
        let (code, out) = run(&args);
        assert_ne!(code, 0, "{bad:?} accepted");
        assert!(out.contains("invalid --kernel-iptables-chain"), "{out}");
    }
    std::fs::write(
        &conf,
        "[rtpengine]\ninterface = 127.0.0.1\nlisten-ng = 2223\nkernel-iptables-chain = RTPENGINE\n",
    )
    .unwrap();
    let (code, out) = run(&[&format!("--config-file={}", conf.display())]);
    assert_ne!(code, 0);
    assert!(out.contains("invalid --kernel-iptables-chain"), "{out}");
    let (code, out) = run(&[
        "--config-file=none",
        "-i",
        "127.0.0.1",
        "-n",
        "2223",
        "--state-dir=",
    ]);
    assert_ne!(code, 0);
    assert!(out.contains("--state-dir"), "{out}");

    // Valid values start the daemon without "not implemented" warnings for them (from
    // the config file and the command line); 10.5's --iptables-chain is still warned
    // about. --table=-1: nothing may touch the host's iptables.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        &conf,
        format!(
            "[rtpengine]\ninterface = 127.0.0.1\nlisten-ng = 127.0.0.1:{port}\ntable = -1\n\
             port-min = 34800\nport-max = 34899\nkernel-iptables-chain = rtpe-ini\n\
             iptables-chain = fw\n"
        ),
    )
    .unwrap();
    let pidfile = dir.join("pid");
    let child = Command::new(env!("CARGO_BIN_EXE_rtpengined"))
        .args([
            &format!("--config-file={}", conf.display()),
            "-f",
            "-E",
            &format!("--state-dir={}", dir.join("state").display()),
            &format!("--pidfile={}", pidfile.display()),
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !pidfile.exists() {
        assert!(std::time::Instant::now() < deadline, "no pidfile");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("option --iptables-chain is accepted but not implemented"),
        "{log}"
    );
    assert!(
        !log.contains("--kernel-iptables-chain is accepted"),
        "{log}"
    );
    assert!(!log.contains("--state-dir is accepted"), "{log}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_dtls_options_die_as_in_10_5() {
    // 10.5 prints "Fatal error: Invalid --dtls-mtu (100)" and exits with -1.
    for (arg, text) in [
        ("--dtls-mtu=100", "Fatal error: Invalid --dtls-mtu (100)"),
        (
            "--dtls-cert-cipher=dsa",
            "Fatal error: Invalid --dtls-cert-cipher option ('dsa')",
        ),
    ] {
        let (code, out) = run(&[
            "-i",
            "127.0.0.1",
            "-n",
            "127.0.0.1:32250",
            "--table=-1",
            arg,
        ]);
        assert_eq!(code, 255, "{arg}: {out}");
        assert!(out.contains(text), "{arg}: {out}");
    }
    // A key size OpenSSL cannot make stops the start with a clear message.
    let (code, out) = run(&[
        "-i",
        "127.0.0.1",
        "-n",
        "127.0.0.1:32251",
        "--table=-1",
        "--dtls-cert-cipher=rsa",
        "--dtls-rsa-key-size=100",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("cannot generate the DTLS certificate"),
        "{out}"
    );
}
