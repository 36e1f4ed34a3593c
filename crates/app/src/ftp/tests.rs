use super::*;

fn run(p: &mut FtpParser, steps: &[(Direction, &[u8])]) -> Vec<FtpEvent> {
    let mut out = Vec::new();
    for (d, b) in steps {
        p.data(*d, b, &mut out);
    }
    out
}

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

#[test]
fn login_success_and_commands() {
    let mut p = FtpParser::new();
    let out = run(
        &mut p,
        &[
            (S, b"220 FTP server ready.\r\n"),
            (C, b"USER anonymous\r\n"),
            (S, b"331 Guest login ok\r\n"),
            (C, b"PASS root@example.net\r\n"),
            (S, b"230 Guest login ok, access restrictions apply.\r\n"),
            (C, b"retr /pub/file.txt\r\n"),
            (S, b"150 Opening BINARY mode\r\n226 Transfer complete.\r\n"),
        ],
    );
    let FtpEvent::Reply(banner) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!((banner.code, banner.command.as_deref()), (220, None));
    assert_eq!(banner.text, "FTP server ready.");
    let FtpEvent::Command(pass) = &out[3] else {
        panic!("{out:?}")
    };
    assert_eq!(
        (pass.command.as_str(), &pass.arg, pass.password_len),
        ("PASS", &None, Some(16))
    );
    assert_eq!(
        out[5],
        FtpEvent::Login(FtpLogin {
            user: "anonymous".into(),
            password_len: 16,
            success: true,
            reply_code: 230,
            default_credential: false
        })
    );
    let FtpEvent::Command(retr) = &out[6] else {
        panic!("{out:?}")
    };
    assert_eq!(retr.command, "RETR");
    assert_eq!(retr.arg.as_deref(), Some("/pub/file.txt"));
    let FtpEvent::Reply(r150) = &out[7] else {
        panic!()
    };
    let FtpEvent::Reply(r226) = &out[8] else {
        panic!()
    };
    assert_eq!(r150.command.as_deref(), Some("RETR"));
    assert_eq!(r226.command.as_deref(), Some("RETR"));
    assert_eq!(r226.offset, b"220 FTP server ready.\r\n331 Guest login ok\r\n230 Guest login ok, access restrictions apply.\r\n150 Opening BINARY mode\r\n".len() as u64);
    assert!(!p.done());
}

#[test]
fn login_failure_user_direct_and_acct() {
    let mut p = FtpParser::new();
    let out = run(
        &mut p,
        &[
            (C, b"USER bob\n"),
            (S, b"331 Password required\n"),
            (C, b"PASS x\n"),
            (S, b"530 Login incorrect.\n"),
            (C, b"USER guest\r\n"),
            (S, b"230 ok\r\n"),
            (C, b"USER acc\r\nPASS pw\r\nACCT a1\r\n"),
            (S, b"331 p\r\n332 need account\r\n230 in\r\n"),
        ],
    );
    let logins: Vec<_> = out
        .iter()
        .filter_map(|e| match e {
            FtpEvent::Login(l) => Some(l.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        logins,
        vec![
            FtpLogin {
                user: "bob".into(),
                password_len: 1,
                success: false,
                reply_code: 530,
                default_credential: false
            },
            FtpLogin {
                user: "guest".into(),
                password_len: 0,
                success: true,
                reply_code: 230,
                default_credential: false
            },
            FtpLogin {
                user: "acc".into(),
                password_len: 2,
                success: true,
                reply_code: 230,
                default_credential: false
            },
        ]
    );
}

#[test]
fn multi_line_reply_split_anywhere() {
    let reply: &[u8] =
        b"230-Welcome\r\n230-  second\r\n 230 not the end\r\n230 Login successful.\r\n";
    for cut in 0..reply.len() {
        let mut p = FtpParser::new();
        let mut out = Vec::new();
        p.data(C, b"PASS secret\r\n", &mut out);
        p.data(S, &reply[..cut], &mut out);
        p.data(S, &reply[cut..], &mut out);
        let replies: Vec<_> = out
            .iter()
            .filter_map(|e| match e {
                FtpEvent::Reply(r) => Some(r),
                _ => None,
            })
            .collect();
        assert_eq!(replies.len(), 1, "cut {cut}: {out:?}");
        assert_eq!(replies[0].code, 230);
        assert_eq!(replies[0].text, "Welcome");
        assert_eq!(replies[0].lines, 4);
        assert_eq!(replies[0].command.as_deref(), Some("PASS"));
        assert!(out
            .iter()
            .any(|e| matches!(e, FtpEvent::Login(l) if l.success)));
    }
}

#[test]
fn truncation_at_every_offset_never_panics() {
    let client: &[u8] = b"USER a\r\nPASS b\r\nCWD /x\r\nLIST\r\nQUIT\r\n";
    let server: &[u8] =
        b"220-hi\r\n220 ok\r\n331 p\r\n230 in\r\n250 ok\r\n150 x\r\n226 d\r\n221 bye\r\n";
    for cut in 0..=server.len().max(client.len()) {
        let mut p = FtpParser::new();
        let mut out = Vec::new();
        p.data(C, &client[..cut.min(client.len())], &mut out);
        p.data(S, &server[..cut.min(server.len())], &mut out);
        p.end(C, &mut out);
        p.end(S, &mut out);
    }
}

#[test]
fn long_line_is_skipped_and_parsing_continues() {
    let mut p = FtpParser::new();
    let mut long = vec![b'A'; MAX_LINE + 10];
    long.extend_from_slice(b"\r\nNOOP\r\n");
    let mut out = Vec::new();
    for c in long.chunks(1000) {
        p.data(C, c, &mut out);
    }
    assert_eq!(
        out[0],
        FtpEvent::Error(FtpError {
            direction: C,
            offset: 0,
            kind: FtpErrorKind::LineTooLong
        })
    );
    assert!(
        matches!(&out[1], FtpEvent::Command(c) if c.command == "NOOP" && c.offset == MAX_LINE as u64 + 12)
    );
    assert_eq!(out.len(), 2);
}

#[test]
fn gap_resyncs_and_bad_lines() {
    let mut p = FtpParser::new();
    let mut out = Vec::new();
    p.data(S, b"220 hi\r\n", &mut out);
    p.data(C, b"USER a\r\nPA", &mut out);
    p.gap(C, 10);
    p.data(C, b"xx garbage\r\nNOOP\r\n", &mut out);
    p.data(S, b"hello\r\n", &mut out);
    assert!(matches!(&out[2], FtpEvent::Command(c) if c.command == "XX"));
    assert!(
        matches!(&out[3], FtpEvent::Command(c) if c.command == "NOOP" && c.offset == 8 + 2 + 10 + 12)
    );
    assert!(matches!(&out[4], FtpEvent::Error(e) if e.kind == FtpErrorKind::BadReply));
    p.gap(C, 1);
    p.data(C, b"\x01\x02 x\r\nSYST\r\n", &mut out);
    assert!(matches!(out.last(), Some(FtpEvent::Command(c)) if c.command == "SYST"));
}

#[test]
fn auth_tls_stops() {
    let mut p = FtpParser::new();
    let out = run(
        &mut p,
        &[
            (S, b"220 (vsFTPd 3.0.5)\r\n"),
            (C, b"AUTH TLS\r\n"),
            (S, b"234 Proceed with negotiation.\r\n"),
            (C, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\n"),
        ],
    );
    assert_eq!(out.len(), 3, "{out:?}");
    assert!(p.done() && p.tls_started());
}

#[test]
fn unterminated_last_line_and_incomplete_multiline() {
    let mut p = FtpParser::new();
    let mut out = Vec::new();
    p.data(C, b"QUIT", &mut out);
    p.end(C, &mut out);
    p.data(S, b"221-bye\r\nmore", &mut out);
    p.end(S, &mut out);
    assert!(matches!(&out[0], FtpEvent::Command(c) if c.command == "QUIT"));
    assert!(matches!(&out[1], FtpEvent::Error(e) if e.kind == FtpErrorKind::Incomplete));
}

#[test]
fn greeting_after_early_commands() {
    let mut p = FtpParser::new();
    let out = run(
        &mut p,
        &[
            (C, b"USER anonymous\r\nSYST\r\n"),
            (S, b"220 ready\r\n230 ok\r\n215 UNIX\r\n"),
        ],
    );
    let answered: Vec<_> = out
        .iter()
        .filter_map(|e| match e {
            FtpEvent::Reply(r) => Some((r.code, r.command.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        answered,
        [
            (220, None),
            (230, Some("USER".into())),
            (215, Some("SYST".into()))
        ]
    );
}

/// Fuzz finding: bytes after `end` reused the ended line's offset.
#[test]
fn data_after_end_is_ignored() {
    let mut p = FtpParser::new();
    let mut out = Vec::new();
    p.data(C, b"NOOP\r\nQUIT", &mut out);
    p.end(C, &mut out);
    p.data(C, b"\r\nSTAT\r\n", &mut out);
    let offsets: Vec<u64> = out
        .iter()
        .filter_map(|e| match e {
            FtpEvent::Command(c) => Some(c.offset),
            _ => None,
        })
        .collect();
    assert_eq!(offsets, [0, 6]);
}

#[test]
fn invalid_command_keeps_its_place() {
    let mut p = FtpParser::new();
    let long = format!("{}\r\nPASV\r\n", "X".repeat(40));
    let out = run(
        &mut p,
        &[
            (C, long.as_bytes()),
            (S, b"500 what?\r\n227 Entering Passive Mode\r\n"),
        ],
    );
    let answered: Vec<_> = out
        .iter()
        .filter_map(|e| match e {
            FtpEvent::Reply(r) => Some((r.code, r.command.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(answered, [(500, None), (227, Some("PASV".into()))]);
}

#[test]
fn probes() {
    assert_eq!(probe(S, b"220 ProFTPD Server\r\n"), Probe::Match);
    assert_eq!(probe(S, b"220-Welcome\r\n"), Probe::Match);
    assert_eq!(probe(S, b"22"), Probe::NeedMore);
    assert_eq!(
        probe(S, b"220 mail.example.com ESMTP Postfix\r\n"),
        Probe::NoMatch
    );
    assert_eq!(probe(S, b"230 x"), Probe::NoMatch);
    assert_eq!(probe(S, b"HTTP/1.1 200 OK"), Probe::NoMatch);
    assert_eq!(probe(C, b"USER anonymous\r\n"), Probe::Match);
    assert_eq!(probe(C, b"feat\r\n"), Probe::Match);
    assert_eq!(probe(C, b"AU"), Probe::NeedMore);
    assert_eq!(probe(C, b"USERX"), Probe::NoMatch);
    assert_eq!(probe(C, b"GET / HTTP/1.1\r\n"), Probe::NoMatch);
    assert_eq!(probe(C, b"\x16\x03\x01"), Probe::NoMatch);
}

#[test]
fn default_credential_is_recognised_without_keeping_the_password() {
    let mut p = FtpParser::new();
    let out = run(
        &mut p,
        &[
            (S, b"220 camera FTP\r\n"),
            (C, b"USER root\r\n"),
            (S, b"331 Password required\r\n"),
            (C, b"PASS vizxv\r\n"),
            (S, b"230 Logged in\r\n"),
        ],
    );
    let login = out
        .iter()
        .find_map(|e| match e {
            FtpEvent::Login(l) => Some(l.clone()),
            _ => None,
        })
        .unwrap();
    assert!(login.default_credential && login.success);
    let json = serde_json::to_string(&out).unwrap();
    assert!(!json.contains("vizxv"), "{json}");
}
